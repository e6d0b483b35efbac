// The client's session with the operator's server, kept up: rounds of the server's processes
// (issue 13, servers.ts) until one signs in, the backoff between rounds, the lists the server is
// told after each login, and what the server says while online (presence, introductions,
// requests). It writes its part of the client's state; client.ts assembles the rest.
//
//   const session = keepSession({ profile, identity, servers, state, backoff, lookup, log, changed, messenger: () => messenger });
//   session.start();     // the first round (or, with no server, firstLogin resolved at once)
//   session.introduce(7) // => false while offline
import os from 'node:os';
import type { HostPort } from '../net/address.js';
import { LIMITS, WIRE_CODE } from '../net/constants.js';
import type { ControlMessage } from '../net/control.js';
import { openSession, type ServerSession } from '../net/session.js';
import type { Identity } from '../net/tls.js';
import type { Messenger } from './messenger.js';
import { roundOrder, serverCandidates, type Candidate, type LookupAll } from './servers.js';
import type { Profile } from './profile.js';

export type ServerState = 'online' | 'offline' | 'none';

// The fields of the client's state this module writes (ClientState in client.ts says what each
// one means); client.ts copies them out for readers.
export type SessionState = {
  server: ServerState;
  address: string | null;
  signedInTo: string | null;
  lastError: string | null;
  id: number | null;
  presence: Map<number, { online: boolean; at: number }>;
  clockOffsetMs: number;
  refusedBy: Set<number>;
};

export type SessionOptions = {
  profile: Profile;
  identity: Identity;
  // The profile's server list, parsed (empty: no server, or a list that did not parse).
  servers: readonly HostPort[];
  state: SessionState;
  // Reconnect delays: the first wait after a lost session, doubled up to the last.
  backoff: { first: number; max: number };
  lookup: LookupAll;
  log: (line: string) => void;
  // Called when the state changed without an event (presence, the session): attached UIs hear it.
  changed: () => void;
  // The messenger once started: it is given this session's functions, so it starts after.
  messenger: () => Messenger | null;
};

export type KeptSession = {
  // The first round, unawaited; with no server, firstLogin resolves at once.
  start: () => void;
  // Resolves when the first login of this run has been answered (or failed).
  firstLogin: Promise<void>;
  // Asks the server to introduce a contact (false: not online now).
  introduce: (peer: number) => boolean;
  online: () => boolean;
  // The local port of the session (punch.ts connects from it); null when there is none.
  localPort: () => number | null;
  // The process signed in to, or between sessions the last one (where a relay is asked for).
  signedIn: () => Candidate | null;
  // No more rounds, timers or lists; returns the session that was up, for the caller to close
  // once the messenger has closed (nothing is sent through it from here on).
  stop: () => ServerSession | null;
};

// The addresses other clients on this machine's networks may dial (PROTOCOL.md section 6,
// login.lan): every non-internal address of every interface.
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal) out.push(a.family === 'IPv6' && a.scopeid ? `${a.address}%${a.scopeid}` : a.address);
  }
  return out.slice(0, LIMITS.MAX_LAN_ADDRESSES);
}

// See heldElsewhere in keepSession.
const HELD_RETRY_MS = 1_000;
const HELD_WINDOW_MS = 30_000;

// The next wait before a reconnect: doubled each time, at most `max`, with a random part so that
// many clients dropped by one server restart do not all come back in the same instant.
export function nextBackoff(previous: number, first: number, max: number, random: number = Math.random()): number {
  const base = previous === 0 ? first : Math.min(max, previous * 2);
  return Math.round(base * (0.75 + random * 0.5));
}

export function keepSession(options: SessionOptions): KeptSession {
  const { profile, identity, servers, state, backoff, lookup, log, changed: stateChanged, messenger } = options;
  let session: ServerSession | null = null;
  let timer: NodeJS.Timeout | null = null;
  let wait = 0;
  let closing = false;
  let firstDone: () => void = () => undefined;
  const firstLogin = new Promise<void>((resolve) => (firstDone = resolve));

  // The process signed in to (or, between sessions, the last one), where the next round
  // starts after: a client dropped by one process tries the next one first.
  let signedIn: Candidate | null = null;
  let lastTried: string | null = null;
  // A process that died still holds this client's session in the cluster until the others find
  // it dead (within 15 s): a login refused as ALREADY_SIGNED_IN soon after a drop is tried again
  // every second instead of backing off past that moment.
  let heldElsewhere = false;
  let droppedAt = 0;

  // One round (issue 13): every address of the list in turn until one signs in, each tried at
  // once after the one before failed; after a round where none did, the backoff. Never throws,
  // safe to run unawaited.
  async function connect(): Promise<void> {
    timer = null;
    if (closing || servers.length === 0) return;
    const { candidates, failures } = await serverCandidates(servers, lookup);
    heldElsewhere = false;
    for (const c of roundOrder(candidates, lastTried)) {
      if (closing) return;
      lastTried = c.text;
      const outcome = await trySession(c);
      if (outcome === null) return;
      failures.push(outcome);
    }
    if (closing) return;
    state.lastError = failures.join('; ') || `no address for ${state.address}`;
    state.server = 'offline';
    stateChanged();
    firstDone();
    const next = nextBackoff(wait, backoff.first, backoff.max);
    retry(heldElsewhere && Date.now() - droppedAt < HELD_WINDOW_MS ? Math.min(next, HELD_RETRY_MS) : next);
  }

  // A session with one process: null once signed in (its end calls dropped()), else why not.
  async function trySession(c: Candidate): Promise<string | null> {
    let s: ServerSession;
    try {
      // Bound to the wildcard address of the server address's family, so that its port (bound
      // with SO_REUSEADDR) takes the punches of introductions (punch.ts).
      s = await openSession({ host: c.address, port: c.port, identity, localAddress: c.family === 6 ? '::' : '0.0.0.0', onMessage: onMessage });
    } catch (err) {
      return `cannot reach ${c.text}: ${(err as Error).message}`;
    }
    if (closing) {
      void s.close();
      return null;
    }
    session = s;
    let online = false;
    void s.closed.then((end) => {
      if (session === s) session = null;
      if (online) dropped(c, `${end.by}: ${end.code} ${end.reason}`.trim());
    });
    let answer;
    try {
      answer = await s.login({ lan: lanAddresses(), listenPort: messenger()?.listenPort ?? 0, agent: 'parley/0.1.0', allow: allowed() });
    } catch {
      const end = await s.closed;
      return `${c.text}: ${end.by}: ${end.code} ${end.reason}`.trim();
    }
    if (answer.type !== 'login-ok') {
      if (answer.type === 'login-refused' && answer.code === WIRE_CODE.ALREADY_SIGNED_IN) heldElsewhere = true;
      const why = `${answer.type}: ${'code' in answer ? answer.code : ''} ${'reason' in answer ? answer.reason : ''}`.trim();
      log(`parley: ${c.text} refused the login (${why})`);
      if (session === s) session = null;
      void s.close();
      return `${c.text}: ${why}`;
    }
    // Ended between login-ok and here: its close was not taken as a drop; the round goes on.
    if (s.ended() !== null) return `${c.text}: closed after login`;
    online = true;
    signedIn = c;
    state.server = 'online';
    state.signedInTo = c.text;
    state.lastError = null;
    state.clockOffsetMs = answer.serverTime - Date.now();
    wait = 0;
    stateChanged();
    await recordId(answer.id, c.text);
    watch(s);
    log(`parley: online at ${c.text} as ${answer.id}`);
    firstDone();
    return null;
  }

  // The id the server gives is journaled once: identity.created, and server.registered for
  // each server that gave one.
  async function recordId(id: number, server: string): Promise<void> {
    const events = [];
    if (state.id === null) events.push({ type: 'identity.created' as const, id, keySha256: identity.keySha256 });
    if (!registeredAt(profile, server, id)) events.push({ type: 'server.registered' as const, server, id });
    state.id = id;
    if (events.length > 0) await profile.appendMany(events);
    // An id now: LAN discovery can announce it.
    messenger()?.refreshLan();
  }

  // Who may be introduced to this client at once: its whitelisted contacts. Anyone else's
  // introduce-request reaches it as a request, and the asker learns no address (PROTOCOL.md 7).
  function allowed(): number[] {
    return Object.values(profile.views.contacts)
      .filter((c) => c.whitelisted && !c.blocked)
      .map((c) => c.id)
      .slice(0, LIMITS.MAX_WATCH_IDS);
  }

  // After every login: which contacts to hear about, whom the server must keep away (blocked
  // contacts and refused requests), whom it may introduce.
  function watch(s: ServerSession): void {
    const contacts = Object.values(profile.views.contacts);
    const ids = contacts.map((c) => c.id).slice(0, LIMITS.MAX_WATCH_IDS);
    const refused = Object.values(profile.views.requests).filter((r) => r.state === 'refused').map((r) => r.peer);
    s.send({ type: 'presence-watch', ids });
    s.send({ type: 'block-list', ids: [...contacts.filter((c) => c.blocked).map((c) => c.id), ...refused].slice(0, LIMITS.MAX_WATCH_IDS) });
    s.send({ type: 'allow-list', ids: allowed() });
  }

  // A contact added, blocked or unblocked while online: the server hears the new lists at once
  // (coalesced: a batch of changes sends them once; the server bounds how often they may change).
  let rewatch: NodeJS.Immediate | null = null;
  const unsubscribe = profile.subscribe((event) => {
    if (!event.type.startsWith('contact.')) return;
    // A contact whitelisted (added, or a request accepted) or unblocked is introduced at once when
    // online: the asker of an accepted request, or the one just unblocked, can then send what waits
    // (it was refused by the server and asks no more), and someone newly added is asked.
    const unblocked = event.type === 'contact.blocked' && !event.blocked && profile.views.contacts[event.peer]?.whitelisted === true;
    const welcomed = ((event.type === 'contact.added' || event.type === 'contact.whitelisted') && event.whitelisted) || unblocked;
    const peer = welcomed ? event.peer : null;
    if (rewatch && peer === null) return;
    if (rewatch) clearImmediate(rewatch);
    rewatch = setImmediate(() => {
      rewatch = null;
      if (!session || state.server !== 'online') return;
      watch(session);
      if (peer !== null) session.send({ type: 'introduce-request', target: peer });
    });
  });

  function onMessage(msg: ControlMessage): void {
    if (msg.type === 'presence') {
      state.presence.set(msg.id, { online: msg.online, at: msg.at });
      messenger()?.onPresence(msg.id, msg.online);
    }
    if (msg.type === 'introduce') {
      state.refusedBy.delete(msg.peer);
      messenger()?.onIntroduce(msg);
    }
    if (msg.type === 'introduce-refused') {
      if (msg.code === WIRE_CODE.PEER_REFUSED) state.refusedBy.add(msg.target);
      log(`parley: the server will not introduce ${msg.target}: ${msg.code} ${msg.reason}`.trim());
    }
    if (msg.type === 'contact-request') void onRequest(msg.from);
    if (msg.type === 'presence' || msg.type === 'introduce' || msg.type === 'introduce-refused') stateChanged();
  }

  // Someone not whitelisted asks to talk: kept as a request for the person to accept or refuse,
  // once (a refused one stays refused; the server is told through the block list).
  async function onRequest(from: number): Promise<void> {
    const c = profile.views.contacts[from];
    if (c?.blocked || profile.views.requests[from]) return;
    if (c?.whitelisted) {
      // The server's allow list was behind: it is sent again, and the asker introduced.
      if (session && state.server === 'online') {
        watch(session);
        session.send({ type: 'introduce-request', target: from });
      }
      return;
    }
    await profile.append({ type: 'contact.requested', peer: from }).catch((err: Error) => log(`parley: cannot keep the request of ${from}: ${err.message}`));
    log(`parley: ${from} asks to talk: parley requests accept ${from} (or refuse)`);
  }

  // The process signed in to went away (closed, refused, timed out): the next round starts soon
  // (the first backoff step, not the whole backoff: another process may be up) after it.
  function dropped(c: Candidate, reason: string): void {
    log(`parley: offline (${c.text}: ${reason})`);
    state.server = 'offline';
    state.signedInTo = null;
    state.presence.clear();
    state.lastError = `${c.text}: ${reason}`;
    stateChanged();
    if (closing) return;
    lastTried = c.text;
    droppedAt = Date.now();
    retry(nextBackoff(0, backoff.first, backoff.max));
  }

  function retry(ms: number): void {
    if (closing || timer) return;
    wait = ms;
    timer = setTimeout(() => void connect(), ms);
  }

  return {
    start() {
      if (servers.length > 0) void connect();
      else firstDone();
    },
    firstLogin,
    introduce: (peer) => (session && state.server === 'online' ? session.send({ type: 'introduce-request', target: peer }) || true : false),
    online: () => session !== null && state.server === 'online',
    localPort: () => session?.socket.localPort ?? null,
    signedIn: () => signedIn,
    stop() {
      closing = true;
      if (timer) clearTimeout(timer);
      if (rewatch) clearImmediate(rewatch);
      unsubscribe();
      const s = session;
      session = null;
      return s;
    },
  };
}

function registeredAt(profile: Profile, server: string, id: number): boolean {
  return profile.views.identity.servers[server] === id;
}
