// The client that `parley up` runs (and, later, the UI in its own process): the profile held open,
// a session with the operator's server kept up with reconnects, and the local socket through
// which every other command on the profile reaches it (control.ts) and a UI attaches (attach.ts).
//
//   const client = await startClient({ home, identity, run });
//   client.state();      // { server: 'online', id: 42, presence: Map { 7 => true } ... }
//   await client.close();
import { lookup } from 'node:dns/promises';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import { LIMITS, WIRE_CODE } from '../net/constants.js';
import type { ControlMessage } from '../net/control.js';
import type { LocalListener } from '../net/local.js';
import { openSession, type ServerSession } from '../net/session.js';
import type { Identity } from '../net/tls.js';
import type { Route } from '../events/types.js';
import { startMessenger, type Messenger } from './messenger.js';
import { listenControl, type RunCommand } from './control.js';
import { parseServerAddress, SERVER_SETTING } from './identity.js';
import { openProfile, type Profile } from './profile.js';
import { clearUnkept } from './retention.js';

export type ServerState = 'online' | 'offline' | 'none';

export type ClientState = {
  server: ServerState;
  // The server's address as configured, and why the last session ended or was refused.
  address: string | null;
  lastError: string | null;
  id: number | null;
  // What the server said of each watched contact: online or not, and since when.
  presence: ReadonlyMap<number, { online: boolean; at: number }>;
  // Contacts whose client refuses this one (the server said PEER_REFUSED).
  refusedBy: ReadonlySet<number>;
  // serverTime - local time, from the last login (the certificate's expiry is judged by it).
  clockOffsetMs: number;
  // The route of each contact's peer link that is up.
  routes: ReadonlyMap<number, Route>;
  // Where this client accepts peer links (0: it does not listen): what `parley invite` puts in.
  listenPort: number;
};

export type RunningClient = {
  profile: Profile;
  identity: Identity;
  state: () => ClientState;
  // Resolves when the first login of this run has been answered (or failed): for tests and `up`.
  firstLogin: Promise<void>;
  close: () => Promise<void>;
};

export type ClientOptions = {
  home: string;
  identity: Identity;
  // How commands sent over the local socket are run (the commander program).
  run: RunCommand;
  log?: (line: string) => void;
  // Reconnect delays: the first wait after a lost session, doubled up to the last.
  backoffMs?: { first: number; max: number };
  // false: no listener for direct peer links; every link comes through the relay.
  listen?: boolean;
  // true: LAN discovery as the lan-discovery setting says (parley up, the console); omitted: none
  // (tests and benchmarks that run many clients on one machine, where each would find the others).
  lan?: boolean;
};

// How long a relay end waits for the other side (the server's own bound is 30 s).
const RELAY_WAIT_MS = 35_000;

// The addresses other clients on this machine's networks may dial (PROTOCOL.md section 6,
// login.lan): every non-internal address of every interface.
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal) out.push(a.family === 'IPv6' && a.scopeid ? `${a.address}%${a.scopeid}` : a.address);
  }
  return out.slice(0, LIMITS.MAX_LAN_ADDRESSES);
}

// The next wait before a reconnect: doubled each time, at most `max`, with a random part so that
// many clients dropped by one server restart do not all come back in the same instant.
export function nextBackoff(previous: number, first: number, max: number, random: number = Math.random()): number {
  const base = previous === 0 ? first : Math.min(max, previous * 2);
  return Math.round(base * (0.75 + random * 0.5));
}

export async function startClient(options: ClientOptions): Promise<RunningClient> {
  const { home, identity } = options;
  const log = options.log ?? (() => undefined);
  const backoff = options.backoffMs ?? { first: 500, max: 30_000 };
  const profile = await openProfile(home);
  const address = (profile.views.settings[SERVER_SETTING] as string | undefined) ?? null;
  const state = {
    server: (address ? 'offline' : 'none') as ServerState,
    address,
    lastError: null as string | null,
    id: knownId(profile),
    presence: new Map<number, { online: boolean; at: number }>(),
    clockOffsetMs: 0,
    refusedBy: new Set<number>(),
  };
  let session: ServerSession | null = null;
  let timer: NodeJS.Timeout | null = null;
  let wait = 0;
  let closing = false;
  let control: LocalListener | null = null;
  let messenger: Messenger | null = null;
  const relaying = new Set<Duplex>();
  // Attached UIs hear of what changes the state without an event: presence, the session.
  const stateListeners = new Set<() => void>();
  const stateChanged = (): void => stateListeners.forEach((listener) => listener());
  let firstDone: () => void = () => undefined;
  const firstLogin = new Promise<void>((resolve) => (firstDone = resolve));

  function current(): ClientState {
    return { ...state, presence: new Map(state.presence), refusedBy: new Set(state.refusedBy), routes: messenger?.routes() ?? new Map(), listenPort: messenger?.listenPort ?? 0 };
  }

  async function connect(): Promise<void> {
    timer = null;
    if (closing || !address) return;
    const { host, port } = parseServerAddress(address);
    let s: ServerSession;
    try {
      // Bound to the wildcard address of the server address's family, so that its port (bound
      // with SO_REUSEADDR) takes the punches of introductions (punch.ts).
      const server = await lookup(host);
      s = await openSession({ host: server.address, port, identity, localAddress: server.family === 6 ? '::' : '0.0.0.0', onMessage: onMessage });
    } catch (err) {
      return lost(`cannot reach ${address}: ${(err as Error).message}`);
    }
    if (closing) {
      void s.close();
      return;
    }
    session = s;
    void s.closed.then((end) => {
      if (session === s) session = null;
      lost(`${end.by}: ${end.code} ${end.reason}`.trim());
    });
    let answer;
    try {
      answer = await s.login({ lan: lanAddresses(), listenPort: messenger?.listenPort ?? 0, agent: 'parley/0.1.0', allow: allowed() });
    } catch {
      return; // the session closed: lost() says why and schedules the next try
    }
    if (answer.type !== 'login-ok') {
      state.lastError = `${answer.type}: ${'code' in answer ? answer.code : ''} ${'reason' in answer ? answer.reason : ''}`.trim();
      log(`parley: the server refused the login (${state.lastError})`);
      firstDone();
      return;
    }
    state.server = 'online';
    state.lastError = null;
    state.clockOffsetMs = answer.serverTime - Date.now();
    wait = 0;
    stateChanged();
    await recordId(answer.id, address);
    watch(s);
    log(`parley: online at ${address} as ${answer.id}`);
    firstDone();
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
    messenger?.refreshLan();
  }

  // A second connection to the server, for a relay (PROTOCOL.md section 8): asked for, spliced,
  // then handed over as the stream of the peers' own TLS.
  async function openRelay(peer: number, nonce: string): Promise<Duplex> {
    if (!address) throw new Error('no server');
    const { host, port } = parseServerAddress(address);
    const r = await openSession({ host, port, identity, stopAfter: 'relay-ready' });
    // One still waiting for its pair when the client stops is cut then.
    relaying.add(r.socket);
    const ready = r.next('relay-ready', { ms: RELAY_WAIT_MS });
    r.send({ type: 'relay-request', peer, nonce });
    try {
      await ready;
    } catch (err) {
      r.socket.destroy();
      throw err;
    } finally {
      relaying.delete(r.socket);
    }
    const rest = r.detach();
    if (rest.length > 0) r.socket.unshift(rest);
    return r.socket;
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
      messenger?.onPresence(msg.id, msg.online);
    }
    if (msg.type === 'introduce') {
      state.refusedBy.delete(msg.peer);
      messenger?.onIntroduce(msg);
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

  function lost(reason: string): void {
    if (state.server === 'online') log(`parley: offline (${reason})`);
    state.server = address ? 'offline' : 'none';
    state.presence.clear();
    state.lastError = state.lastError ?? reason;
    stateChanged();
    firstDone();
    if (closing || timer) return;
    wait = nextBackoff(wait, backoff.first, backoff.max);
    timer = setTimeout(() => void connect(), wait);
  }

  try {
    messenger = await startMessenger({
      profile,
      identity,
      id: () => state.id,
      introduce: (peer) => (session && state.server === 'online' ? session.send({ type: 'introduce-request', target: peer }) || true : false),
      serverOnline: () => session !== null && state.server === 'online',
      listen: options.listen !== false,
      lan: options.lan === true,
      clockOffsetMs: () => state.clockOffsetMs,
      sessionPort: () => session?.socket.localPort ?? null,
      openRelay: (peer, nonce) => openRelay(peer, nonce),
      isOnline: (peer) => state.presence.get(peer)?.online === true,
      log,
    });
    control = await listenControl(home, {
      run: options.run,
      attach: {
        home,
        profile,
        state: current,
        onStateChange(listener) {
          stateListeners.add(listener);
          return () => stateListeners.delete(listener);
        },
      },
    });
  } catch (err) {
    await messenger?.close();
    await profile.close();
    throw err;
  }
  if (address) void connect();
  else firstDone();
  // Contacts whose invite said where they listen need no server: dialled at once; and the LAN is
  // searched when this client has an id already.
  messenger.dialLocated();
  messenger.refreshLan();

  return {
    profile,
    identity,
    state: current,
    firstLogin,
    async close() {
      if (closing) return;
      closing = true;
      if (timer) clearTimeout(timer);
      if (rewatch) clearImmediate(rewatch);
      unsubscribe();
      const s = session;
      session = null;
      for (const r of relaying) r.destroy();
      await messenger?.close();
      if (s) await s.close().catch(() => undefined);
      await control?.close();
      // The chats the person does not keep go now, with nothing left to write to them.
      const cleared = await clearUnkept(profile, log);
      if (cleared > 0) log(`parley: cleared ${cleared} chat(s) not kept`);
      await profile.close();
    },
  };
}

// The id this profile got from a server, if it has one yet.
function knownId(profile: Profile): number | null {
  return profile.views.identity.id;
}

function registeredAt(profile: Profile, server: string, id: number): boolean {
  return profile.views.identity.servers[server] === id;
}
