// A UI's side of the running client's local socket (docs/PROTOCOL.md section 11, "Attaching a
// UI"; the client's side is src/node/attach.ts): one subscription that hears every event and
// status, and one short connection per page, per count of what is pending, per intent (a "run"
// request: the same command a person types, with its checks and exit code). The console and
// the Ink UI both see the client through this and nothing else.
import type net from 'node:net';
import type { Stored } from '../events/types.js';
import { readLines } from '../net/local.js';
import type { Pending } from '../node/pending.js';
import type { StatusRow } from '../node/status.js';
import { connectClient } from '../node/control.js';
import type { HistoryRow } from '../node/export.js';

// An answer line is one event or one chunk of a command's output; the request bound is 7 MiB.
const MAX_LINE = 16 * 1024 * 1024;

// The settings as the client reads them, defaults filled in (PROTOCOL.md, "snapshot").
export type ShownSettings = Record<string, string | number | boolean | null>;
export type Snapshot = { seq: number; status: StatusRow; settings: ShownSettings };

export type SubscribeHandlers = {
  onEvent: (event: Stored) => void;
  onStatus: (status: StatusRow) => void;
  onSettings: (settings: ShownSettings) => void;
  // The subscription ended: the client stopped, or dropped a reader too slow ("too slow").
  onEnd: (reason: string | null) => void;
};

export type Subscription = { snapshot: Snapshot; close: () => void };

// Attaches and resolves with the snapshot; the handlers hear what follows it, in order.
export async function subscribe(home: string, handlers: SubscribeHandlers): Promise<Subscription> {
  const socket = await connectClient(home);
  return new Promise((resolve, reject) => {
    let snapshot: Snapshot | null = null;
    let reason: string | null = null;
    socket.on('error', () => undefined);
    socket.once('close', () => {
      if (snapshot === null) reject(new Error('the client closed the connection before its snapshot'));
      else handlers.onEnd(reason);
    });
    readLines(socket, MAX_LINE, (line) => {
      const answer = parsed(line) as { snapshot?: Snapshot; event?: Stored; status?: StatusRow; settings?: ShownSettings; error?: string };
      if (answer.snapshot) {
        snapshot = answer.snapshot;
        resolve({ snapshot, close: () => socket.destroy() });
      } else if (answer.event) handlers.onEvent(answer.event);
      else if (answer.status) handlers.onStatus(answer.status);
      else if (answer.settings) handlers.onSettings(answer.settings);
      else if (typeof answer.error === 'string') reason = answer.error;
    });
    socket.write('{"op":"subscribe"}\n');
  });
}

// A line that is not JSON (a client of another version gone wrong) is passed over, not thrown
// inside a socket's handler.
function parsed(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

// One request, every answer line until the client closes.
async function ask(home: string, request: unknown, onLine: (answer: Record<string, unknown>) => void): Promise<void> {
  const socket: net.Socket = await connectClient(home);
  await new Promise<void>((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => resolve());
    readLines(socket, MAX_LINE, (line) => onLine(parsed(line)));
    socket.write(JSON.stringify(request) + '\n');
  });
}

// A page of a chat, oldest first, as `parley history --json` prints its rows. Rejects with the
// client's reason for a bad request.
export async function page(home: string, peer: number, options: { limit: number; before?: number }): Promise<HistoryRow[]> {
  let rows: HistoryRow[] | null = null;
  let error = 'the client stopped before it answered';
  await ask(home, { op: 'page', peer, ...options }, (a) => {
    if (Array.isArray(a.messages)) rows = a.messages as HistoryRow[];
    if (typeof a.error === 'string') error = a.error;
  });
  if (rows === null) throw new Error(error);
  return rows;
}

export async function pending(home: string): Promise<Pending> {
  let found: Pending | null = null;
  let error = 'the client stopped before it answered';
  await ask(home, { op: 'pending' }, (a) => {
    if (a.pending) found = a.pending as Pending;
    if (typeof a.error === 'string') error = a.error;
  });
  if (found === null) throw new Error(error);
  return found;
}

export type RunResult = { out: string; err: string; exit: number };

// An intent: the command line run inside the client, as `parley ARGV` typed in `cwd` would.
// A client that stops before the end gives exit 1 with its reason.
export async function run(home: string, argv: string[], cwd: string): Promise<RunResult> {
  const result: RunResult = { out: '', err: '', exit: -1 };
  await ask(home, { op: 'run', argv, cwd, tty: { stdout: false, stderr: false } }, (a) => {
    if (typeof a.out === 'string') result.out += a.out;
    if (typeof a.err === 'string') result.err += a.err;
    if (typeof a.exit === 'number') result.exit = a.exit;
  });
  if (result.exit === -1) return { ...result, err: result.err + 'parley: the client stopped before the command ended\n', exit: 1 };
  return result;
}
