// The server's options, their defaults, and the one place they are checked: startServer works
// only with `Resolved`, where every bound is a whole number in its range and the clock is set.
import type { Identity } from '../src/net/tls.js';
import { readText } from '../cert/files.js';
import { LIMITS, TIMING } from '../src/net/constants.js';
import { badOption } from './errors.js';
import { badClusterOption } from './cluster/errors.js';
import type { ClusterOptions } from './cluster/contract.js';
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
  // One process of several acting as one server through NATS (cluster/contract.ts); left out:
  // the single process on its own journal, as always.
  cluster?: ClusterConfig;
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

// What `parley server --cluster ...` gives; the rest of ClusterOptions has defaults.
export type ClusterConfig = Pick<ClusterOptions, 'servers' | 'node' | 'publicAddress'> & Partial<Omit<ClusterOptions, 'servers' | 'node' | 'publicAddress' | 'now' | 'log'>>;

export const CLUSTER_DEFAULTS = Object.freeze({
  name: 'parley',
  replicas: 3,
  // A process without NATS lets its sessions go after 5 s; a silent node is dead after 8 s;
  // with heartbeats every 2 s, a process that dies frees its sessions within 10 s, one that
  // loses NATS within 15 s (the bound).
  fenceAfterMs: 5_000,
  deadAfterMs: 8_000,
  heartbeatMs: 2_000,
});

const NODE_NAME = /^[A-Za-z0-9_-]{1,32}$/;

// Throws CLUSTER_BAD_OPTION (bad input, exit 2) for a cluster option out of its range.
export function resolveCluster(c: ClusterConfig, now: () => number, log: (line: string) => void): ClusterOptions {
  const d = CLUSTER_DEFAULTS;
  if (!Array.isArray(c.servers) || c.servers.length === 0 || c.servers.some((u) => !/^(nats|tls):\/\/[^\s/]+:\d{1,5}$/.test(u))) throw badClusterOption('cluster', 'nats://HOST:PORT[,nats://HOST:PORT...]', c.servers?.join(','));
  if (!NODE_NAME.test(c.node)) throw badClusterOption('node', '1 to 32 letters, digits, - or _', c.node);
  if (!/^[^\s]+:\d{1,5}$/.test(c.publicAddress)) throw badClusterOption('public', 'HOST:PORT where clients reach this process', c.publicAddress);
  const name = c.name ?? d.name;
  if (!NODE_NAME.test(name)) throw badClusterOption('clusterName', '1 to 32 letters, digits, - or _', name);
  checkNatsFiles(c);
  return {
    servers: c.servers,
    node: c.node,
    publicAddress: c.publicAddress,
    name,
    replicas: positive('replicas', c.replicas, d.replicas),
    auth: c.auth ?? {},
    tls: c.tls ?? null,
    fenceAfterMs: positive('fenceAfterMs', c.fenceAfterMs, d.fenceAfterMs, 10),
    deadAfterMs: positive('deadAfterMs', c.deadAfterMs, d.deadAfterMs, 10),
    heartbeatMs: positive('clusterHeartbeatMs', c.heartbeatMs, d.heartbeatMs, 10),
    now,
    log,
  };
}

// The NATS credentials and TLS files are read when the process connects; a missing or wrong one
// is said now, as the bad input it is, not later as a NATS that cannot be reached.
function checkNatsFiles(c: ClusterConfig): void {
  const creds = c.auth?.credsFile;
  if (creds !== undefined) {
    const text = readText(creds, 'NATS credentials file');
    if (!/-----BEGIN NATS USER JWT-----/.test(text) || !/-----BEGIN USER NKEY SEED-----/.test(text)) {
      throw badClusterOption('natsCreds', 'a NATS credentials file (a user JWT and its NKey seed, as nsc writes it)', creds);
    }
  }
  const tls = c.tls;
  if (!tls) return;
  if (tls.cert === undefined && tls.key !== undefined) throw badClusterOption('natsCert', 'given with natsKey (a key goes with its certificate)', 'none');
  if (tls.key === undefined && tls.cert !== undefined) throw badClusterOption('natsKey', 'given with natsCert (a certificate goes with its key)', 'none');
  if (tls.ca !== undefined) readText(tls.ca, 'NATS CA certificate');
  if (tls.cert !== undefined) readText(tls.cert, 'NATS TLS certificate');
  if (tls.key !== undefined) readText(tls.key, 'NATS TLS key');
}

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
  cluster: ClusterOptions | null;
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
  const now = options.now ?? Date.now;
  const log = options.log ?? noop;
  return {
    ...resolveLimits(options),
    identity: options.identity,
    dataDir: options.dataDir,
    host: options.host ?? SERVER_DEFAULTS.host,
    port: options.port ?? SERVER_DEFAULTS.port,
    admin: options.admin !== false,
    now,
    onRelayData: options.onRelayData,
    log,
    cluster: options.cluster ? resolveCluster(options.cluster, now, log) : null,
  };
}
