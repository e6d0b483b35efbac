// The running client's local socket (`parley up`): while it holds the profile, every command on
// that profile comes here and runs inside it, on its open profile, with its output sent back to
// the caller: the same output and exit code as when the command opens the store itself. The
// socket is private to the owner's account (src/net/local.ts); docs/PROTOCOL.md section 11.
//
// One JSON object per line each way. The caller sends one request:
//   {"op":"run","argv":["contacts","--json"],"cwd":"/home/ann","tty":{"stdout":false,"stderr":true}}
// and reads until the exit:
//   {"out":"..."}  {"err":"..."}  ...  {"exit":0}
// A UI attaches through the same socket with {"op":"subscribe"}, {"op":"page",...} and
// {"op":"pending"} (attach.ts); its intents are "run" requests like any command's.
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { EXIT, parleyError } from '../errors.js';
import { connectLocal, listenLocal, readLines, type LocalKind, type LocalListener } from '../net/local.js';
import type { CommandIo } from '../commands/io.js';
import { servePage, servePending, serveSubscribe, type AttachSource } from './attach.js';

const CLIENT: LocalKind = {
  dirPrefix: 'parley-client-',
  socketName: 'client.sock',
  pointer: 'client.path',
  pipePrefix: '\\\\.\\pipe\\parley-client-',
  unsafeCode: 'CLIENT_SOCKET_UNSAFE',
};

// A request carries a command line: a message of up to 1 MiB among its arguments, each character
// escaped as \u00XX at worst; an answer line one chunk of output.
const MAX_LINE = 7 * 1024 * 1024;

export type RunRequest = { op: 'run'; argv: string[]; cwd: string; tty?: { stdout?: boolean; stderr?: boolean } };
// Runs a command line inside the client; resolves with its exit code, never rejects.
export type RunCommand = (argv: string[], io: Omit<CommandIo, 'client'>) => Promise<number>;

// The command ran in the client: its output has been written here, and this is its exit code.
// Thrown by withProfile so that the command goes no further in this process.
export type Forwarded = Error & { forwardedExit: number };

export function isForwarded(err: unknown): err is Forwarded {
  return err instanceof Error && typeof (err as Forwarded).forwardedExit === 'number';
}

// A client runs on this profile, or ran and crashed (its pointer is left): forwardToClient tells.
export function hasRunningClient(home: string): boolean {
  return fs.existsSync(path.join(home, CLIENT.pointer));
}

function isRunRequest(value: unknown): value is RunRequest {
  const v = value as RunRequest;
  return (
    typeof v === 'object' && v !== null && v.op === 'run' && Array.isArray(v.argv) && v.argv.every((a) => typeof a === 'string') && typeof v.cwd === 'string'
  );
}

// Output of a forwarded command as answer lines, waiting while the caller reads slowly, so a long
// history streams in flat memory here too. When the caller goes away, writes end at once.
function answerStream(socket: net.Socket, field: 'out' | 'err', isTTY: boolean): Writable & { isTTY: boolean } {
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      if (socket.destroyed) return done(new Error('the caller went away'));
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (socket.write(JSON.stringify({ [field]: text }) + '\n')) return done();
      socket.once('drain', () => done());
    },
  });
  stream.on('error', () => undefined);
  socket.once('close', () => stream.destroy());
  return Object.assign(stream, { isTTY });
}

// What the socket serves: forwarded commands, and the attached UIs' subscriptions and pages.
export type ControlHandlers = { run: RunCommand; attach: AttachSource };

export function listenControl(home: string, handlers: ControlHandlers): Promise<LocalListener> {
  const { run, attach } = handlers;
  return listenLocal(CLIENT, home, (socket) => {
    let started = false;
    // One request per connection: what follows it is not read as another.
    readLines(socket, MAX_LINE, (line) => {
      if (started) return;
      started = true;
      let request: unknown = null;
      try {
        request = JSON.parse(line);
      } catch {
        request = null;
      }
      const op = typeof request === 'object' && request !== null ? (request as { op?: unknown }).op : undefined;
      if (op === 'subscribe') return serveSubscribe(socket, attach);
      if (op === 'page') return void servePage(socket, attach.profile, request as Record<string, unknown>);
      if (op === 'pending') return void servePending(socket, attach.profile);
      if (!isRunRequest(request)) {
        socket.end(JSON.stringify({ err: 'parley: not a request this client knows\n' }) + '\n' + JSON.stringify({ exit: EXIT.USAGE }) + '\n');
        return;
      }
      const io = {
        stdout: answerStream(socket, 'out', request.tty?.stdout === true),
        stderr: answerStream(socket, 'err', request.tty?.stderr === true),
        cwd: request.cwd,
      };
      void run(request.argv, io).then((code) => {
        // After the output it wrote: a Writable keeps the order of its writes.
        io.stdout.end(() => {
          io.stderr.end(() => {
            if (!socket.destroyed) socket.end(JSON.stringify({ exit: code }) + '\n');
          });
        });
      });
    });
  });
}

// A connection to the client running on `home` (a UI attaching, a command forwarded). Rejects
// with ENOENT or ECONNREFUSED when none runs, or CLIENT_SOCKET_UNSAFE (src/net/local.ts).
export function connectClient(home: string): Promise<net.Socket> {
  return connectLocal(CLIENT, home);
}

// Whether a client answers on `home`'s socket now (a pointer left by one that crashed: no).
export async function isClientAnswering(home: string): Promise<boolean> {
  try {
    const socket = await connectClient(home);
    socket.destroy();
    return true;
  } catch {
    return false;
  }
}

// Runs this process's command line in the client that holds `home`, writing its output here.
// Resolves with the Forwarded exit, or null when no client answers (one that crashed left its
// pointer behind): the caller then opens the profile itself.
export async function forwardToClient(home: string, argv: string[] = process.argv.slice(2)): Promise<Forwarded | null> {
  let socket: net.Socket;
  try {
    socket = await connectClient(home);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return null;
    throw parleyError('CLIENT_UNREACHABLE', `the client running on ${home} cannot be reached: ${(err as Error).message}`, EXIT.BUG, err);
  }
  const request: RunRequest = { op: 'run', argv, cwd: process.cwd(), tty: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true } };
  return new Promise((resolve, reject) => {
    let exit: number | null = null;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (exit !== null) resolve(Object.assign(new Error(`ran in the client with exit ${exit}`), { forwardedExit: exit }));
      else reject(parleyError('CLIENT_GONE', `the client running on ${home} stopped before the command ended`, EXIT.BUG));
    });
    readLines(socket, MAX_LINE, (line) => {
      let answer: { out?: string; err?: string; exit?: number };
      try {
        answer = JSON.parse(line) as typeof answer;
      } catch {
        return;
      }
      if (typeof answer.out === 'string' && !process.stdout.write(answer.out)) {
        // A slow reader of our output (a pager): the client waits too.
        socket.pause();
        process.stdout.once('drain', () => socket.resume());
      }
      if (typeof answer.err === 'string') process.stderr.write(answer.err);
      if (typeof answer.exit === 'number') exit = answer.exit;
    });
    socket.write(JSON.stringify(request) + '\n');
  });
}
