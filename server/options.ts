// The server's options, their defaults, and the one place they are checked: startServer works
// only with `Resolved`, where every bound is a whole number in its range and the clock is set.
import type { Identity } from '../src/net/tls.js';
import { LIMITS, TIMING } from '../src/net/constants.js';
import { badOption } from './errors.js';
import type { Direction } from './relay.js';

export type ServerOptions = {
  identity: Identity;
  // The server's own directory: its journal (DIR/journal) and its admin socket (admin.ts).
  dataDir: string;
  host?: string;
  // 0: any free port (address() tells which).
  port?: number;
  // Announced in login-ok (1,000 .. 600,000 ms); the server also heartbeats a silent session.
  heartbeatMs?: number;
  // A session that sent nothing for this long is dropped and announced as gone.
  deadAfterMs?: number;
  // From TCP accept to the first frame (login or relay-request), TLS handshake included.
  loginTimeoutMs?: number;
  // Sessions, logged in or logging in. A login beyond it gets SERVER_FULL.
  maxSessions?: number;
  // Connections still in the TLS handshake or before their first frame.
  maxPending?: number;
  // The share of maxPending one source address may hold (default a quarter of it): beyond it, new
  // connections from that address are closed at accept, so one host cannot lock out the others.
  maxPendingPerAddress?: number;
  // A session whose unsent output grows beyond this (it does not read) is dropped.
  maxWriteQueueBytes?: number;
  maxRelays?: number;
  maxRelaysPerClient?: number;
  relayPairTimeoutMs?: number;
  relayIdleMs?: number;
  // Per direction of one relay; 0: no cap (see relay.ts on fairness).
  relayBytesPerSecond?: number;
  introductionTtlMs?: number;
  punchLeadMs?: number;
  // Introductions one client may ask for per minute.
  introductionsPerMinute?: number;
  // presence-watch and block-list messages one session may send per minute, both kinds together.
  listChangesPerMinute?: number;
  // How long a closing connection may take to go before it is destroyed.
  closeGraceMs?: number;
  // Listen on the admin socket (default true). Tests that run several servers in one
  // directory tree may turn it off.
  admin?: boolean;
  // The clock every decision reads (deadlines, rate windows, journaled times). Default Date.now.
  now?: () => number;
  // For tests: sees every relayed chunk.
  onRelayData?: (relay: { a: number; b: number }, direction: Direction, chunk: Buffer) => void;
  // Notable events, one line each (a journal write that failed, a refused accept).
  log?: (line: string) => void;
};

export const SERVER_DEFAULTS = Object.freeze({
  host: '0.0.0.0',
  port: 7300,
  heartbeatMs: TIMING.HEARTBEAT_MS,
  deadAfterMs: TIMING.DEAD_AFTER_MS,
  loginTimeoutMs: TIMING.LOGIN_TIMEOUT_MS,
  // One session needs one file descriptor: a process here may hold 20,000 in all.
  maxSessions: 50_000,
  maxPending: 2_000,
  maxWriteQueueBytes: 256 * 1024,
  maxRelays: 1_000,
  maxRelaysPerClient: 4,
  relayPairTimeoutMs: TIMING.RELAY_PAIR_TIMEOUT_MS,
  relayIdleMs: 120_000,
  relayBytesPerSecond: 0,
  introductionTtlMs: TIMING.INTRODUCTION_TTL_MS,
  punchLeadMs: TIMING.PUNCH_LEAD_MS,
  introductionsPerMinute: 60,
  // A client sends both lists after login-ok and then once per change of its contacts; each watch
  // is answered with up to 1,024 presence frames (about 80 KiB).
  listChangesPerMinute: 30,
  closeGraceMs: 2_000,
});

// maxPendingPerAddress by default: the server bench (96 handshakes in flight from one address)
// and a NAT of many honest clients get in, while a flood from one host leaves 3/4 of the slots.
const PENDING_SHARE_OF_ADDRESS = 4;

// The numbers the decisions read (deadlines.ts, login.ts, pairing.ts ...): tests build them
// with resolveLimits({}) and override what they check.
export type Limits = {
  heartbeatMs: number;
  deadAfterMs: number;
  loginTimeoutMs: number;
  maxSessions: number;
  maxPending: number;
  maxPendingPerAddress: number;
  maxWriteQueueBytes: number;
  maxRelays: number;
  maxRelaysPerClient: number;
  relayPairTimeoutMs: number;
  relayIdleMs: number;
  relayBytesPerSecond: number;
  introductionTtlMs: number;
  punchLeadMs: number;
  introductionsPerMinute: number;
  listChangesPerMinute: number;
  closeGraceMs: number;
};

export type Resolved = Limits & {
  identity: Identity;
  dataDir: string;
  host: string;
  port: number;
  admin: boolean;
  now: () => number;
  onRelayData: ServerOptions['onRelayData'];
  log: (line: string) => void;
};

const noop = (): void => undefined;

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) throw badOption(name, `a whole number of at least ${min}`, v);
  return v;
}

// Throws SERVER_BAD_OPTION for the first option out of its range.
export function resolveLimits(options: Partial<Limits>): Limits {
  const d = SERVER_DEFAULTS;
  const maxPending = positive('maxPending', options.maxPending, d.maxPending);
  return {
    heartbeatMs: positive('heartbeatMs', options.heartbeatMs, d.heartbeatMs, LIMITS.MIN_HEARTBEAT_MS),
    deadAfterMs: positive('deadAfterMs', options.deadAfterMs, d.deadAfterMs, 10),
    loginTimeoutMs: positive('loginTimeoutMs', options.loginTimeoutMs, d.loginTimeoutMs, 10),
    maxSessions: positive('maxSessions', options.maxSessions, d.maxSessions),
    maxPending,
    maxPendingPerAddress: positive('maxPendingPerAddress', options.maxPendingPerAddress, Math.max(1, Math.floor(maxPending / PENDING_SHARE_OF_ADDRESS))),
    maxWriteQueueBytes: positive('maxWriteQueueBytes', options.maxWriteQueueBytes, d.maxWriteQueueBytes, 1024),
    maxRelays: positive('maxRelays', options.maxRelays, d.maxRelays, 0),
    maxRelaysPerClient: positive('maxRelaysPerClient', options.maxRelaysPerClient, d.maxRelaysPerClient, 0),
    relayPairTimeoutMs: positive('relayPairTimeoutMs', options.relayPairTimeoutMs, d.relayPairTimeoutMs, 10),
    relayIdleMs: positive('relayIdleMs', options.relayIdleMs, d.relayIdleMs, 10),
    relayBytesPerSecond: positive('relayBytesPerSecond', options.relayBytesPerSecond, d.relayBytesPerSecond, 0),
    introductionTtlMs: positive('introductionTtlMs', options.introductionTtlMs, d.introductionTtlMs, 10),
    punchLeadMs: positive('punchLeadMs', options.punchLeadMs, d.punchLeadMs, 0),
    introductionsPerMinute: positive('introductionsPerMinute', options.introductionsPerMinute, d.introductionsPerMinute),
    listChangesPerMinute: positive('listChangesPerMinute', options.listChangesPerMinute, d.listChangesPerMinute),
    closeGraceMs: positive('closeGraceMs', options.closeGraceMs, d.closeGraceMs, 10),
  };
}

export function resolveOptions(options: ServerOptions): Resolved {
  return {
    ...resolveLimits(options),
    identity: options.identity,
    dataDir: options.dataDir,
    host: options.host ?? SERVER_DEFAULTS.host,
    port: options.port ?? SERVER_DEFAULTS.port,
    admin: options.admin !== false,
    now: options.now ?? Date.now,
    onRelayData: options.onRelayData,
    log: options.log ?? noop,
  };
}
