// How a UI attaches to the running client: on the same private local socket as the forwarded
// commands (control.ts), two more requests, one JSON object per line each way
// (docs/PROTOCOL.md section 11, "The running client's socket"):
//
//   {"op":"subscribe"}
//     => {"snapshot":{"seq":120,"status":{...},"settings":{...}}}   at once
//     => {"event":{"type":"message.received","seq":121,...}}        each event appended from then on
//     => {"status":{...}}                                           when the status changes
//   {"op":"page","peer":7,"before":121,"limit":50}
//     => {"messages":[{...},{...}]}                                 then the client closes
//   {"op":"pending"}
//     => {"pending":{"messages":2,"transfers":1}}                   then the client closes
//
// What the UI wants done (send, edit, read, requests accept, ...) is a forwarded command: the
// "run" request, the same code as the command line, so there is one way to do each thing.
import type net from 'node:net';
import { LIMITS } from '../net/constants.js';
import { downloadsPath, settingsOf } from '../projections/settings.js';
import type { ClientState } from './client.js';
import { historyRow } from './export.js';
import type { Profile } from './profile.js';
import { pendingOf } from './pending.js';
import { certNotAfter, statusRow } from './status.js';

// What the running client lends to its attached UIs.
export type AttachSource = {
  home: string;
  profile: Profile;
  state: () => ClientState;
  // Calls `listener` when something of the state that no event tells changes (the server
  // session up or down, a contact's presence); returns the function that stops it.
  onStateChange: (listener: () => void) => () => void;
};

export type AttachOptions = {
  // How much may wait in the socket's write buffer for a subscriber before it is dropped.
  maxBuffered?: number;
  // How long a dropped subscriber has to read what was queued before the socket is cut.
  dropGraceMs?: number;
};

// A reader that takes less than the client writes would make the client hold every event in
// memory; a UI that reads keeps this near zero (a burst of 10,000 small events is about 2 MiB,
// which the kernel's socket buffer and the reader take in as it comes).
export const MAX_BUFFERED = 1024 * 1024;
const DROP_GRACE_MS = 10_000;

export const PAGE_LIMIT = { DEFAULT: 50, MAX: 500 };

// One answer line. Buffers go as base64 and bigints as numbers (decimal strings past 2^53), so
// that any event the journal may ever hold is valid JSON; JSON.stringify would throw on a bigint
// and spell a Buffer as an array of bytes. => '{"event":{"seq":5,"type":"contact.added",...}}\n'
export function jsonLine(value: unknown): string {
  return (
    JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
      // `this[key]` is the value before its toJSON (a Buffer's turns it into {type, data}).
      const raw = this[key];
      if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      return v;
    }) + '\n'
  );
}

// Keeps `socket` as a subscription until either side closes it. Never throws.
export function serveSubscribe(socket: net.Socket, source: AttachSource, options: AttachOptions = {}): void {
  const { profile } = source;
  const maxBuffered = options.maxBuffered ?? MAX_BUFFERED;
  // The certificate does not change while the client runs: read once, not at each status.
  const notAfter = certNotAfter(source.home);
  const status = (): string => JSON.stringify(statusRow(profile, source.state(), notAfter));
  // The downloads folder as the folder it is, its default filled in like the others'.
  const settings = (): string => {
    const s = settingsOf(profile.views.settings);
    return JSON.stringify({ ...s, downloads: downloadsPath(s, profile.home) });
  };
  let lastStatus = status();
  let lastSettings = settings();
  let refresh: NodeJS.Immediate | null = null;
  let done = false;

  // Taken in the same tick as the subscription: the first event sent is the one after `seq`.
  socket.write(`{"snapshot":{"seq":${profile.journal.lastSeq()},"status":${lastStatus},"settings":${lastSettings}}}\n`);

  function send(line: string): void {
    if (done || socket.destroyed) return;
    socket.write(line);
    if (socket.writableLength > maxBuffered) drop();
  }

  // The status and settings are sent again only when they differ from what was sent last, once
  // per tick: a login's burst of presence messages, or a batch of 1,000 messages received,
  // makes at most one line of each.
  function schedule(): void {
    if (refresh || done) return;
    refresh = setImmediate(() => {
      refresh = null;
      const s = status();
      if (s !== lastStatus) send(`{"status":${(lastStatus = s)}}\n`);
      const t = settings();
      if (t !== lastSettings) send(`{"settings":${(lastSettings = t)}}\n`);
    });
  }

  const stopEvents = profile.subscribe((event) => {
    send(jsonLine({ event }));
    // A link opened or closed, a message received or read, a contact added: the status changes.
    schedule();
  });
  const stopState = source.onStateChange(schedule);

  function stop(): void {
    if (done) return;
    done = true;
    stopEvents();
    stopState();
    if (refresh) clearImmediate(refresh);
  }

  // The reader gets what was queued, then the reason, then the end; one that reads nothing more
  // is cut after a grace, so its buffer is given back.
  function drop(): void {
    stop();
    socket.end('{"error":"too slow"}\n');
    setTimeout(() => socket.destroy(), options.dropGraceMs ?? DROP_GRACE_MS).unref();
  }

  socket.once('close', stop);
}

type PageArgs = { peer: number; before?: number; limit: number };

// The arguments of a page request, or what is wrong with them (one line for the caller).
export function pageArgs(request: Record<string, unknown>): PageArgs | string {
  const { peer, before, limit } = request;
  if (typeof peer !== 'number' || !Number.isSafeInteger(peer) || peer < 1 || peer > LIMITS.MAX_ID) return `"peer" must be a contact id, a whole number from 1 to ${LIMITS.MAX_ID}`;
  if (before !== undefined && (typeof before !== 'number' || !Number.isSafeInteger(before) || before < 1)) return '"before" must be a seq, a whole number of 1 or more';
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > PAGE_LIMIT.MAX)) return `"limit" must be a whole number from 1 to ${PAGE_LIMIT.MAX}`;
  return { peer, limit: limit ?? PAGE_LIMIT.DEFAULT, ...(before !== undefined ? { before } : {}) };
}

// Answers one page of a chat, oldest first, as `parley history --json` prints its rows, and
// closes. Never throws.
export async function servePage(socket: net.Socket, profile: Profile, request: Record<string, unknown>): Promise<void> {
  const args = pageArgs(request);
  let answer: string;
  if (typeof args === 'string') answer = jsonLine({ error: args });
  else {
    try {
      const messages = await profile.page(args.peer, { limit: args.limit, before: args.before });
      answer = jsonLine({ messages: messages.map(historyRow) });
    } catch (err) {
      // The client stopping under the read, or a damaged store: said, not thrown.
      answer = jsonLine({ error: `the page cannot be read: ${(err as Error).message}` });
    }
  }
  if (!socket.destroyed) socket.end(answer);
}

// Answers what is still pending (pending.ts) and closes: what a UI says when it ends. Never throws.
export async function servePending(socket: net.Socket, profile: Profile): Promise<void> {
  let answer: string;
  try {
    answer = jsonLine({ pending: await pendingOf(profile) });
  } catch (err) {
    answer = jsonLine({ error: `what is pending cannot be read: ${(err as Error).message}` });
  }
  if (!socket.destroyed) socket.end(answer);
}
