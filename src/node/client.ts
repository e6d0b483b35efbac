// The client that `parley up` runs (and, later, the UI in its own process): the profile held open,
// a session with the operator's server kept up with reconnects (round the server's processes:
// online.ts, servers.ts), and the local socket through which every other command on the profile
// reaches it (control.ts) and a UI attaches (attach.ts).
//
//   const client = await startClient({ home, identity, run });
//   client.state();      // { server: 'online', id: 42, presence: Map { 7 => true } ... }
//   await client.close();
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LocalListener } from '../net/local.js';
import type { Identity } from '../net/tls.js';
import type { Route } from '../events/types.js';
import { startMessenger, type Messenger } from './messenger.js';
import { listenControl, type RunCommand } from './control.js';
import { SERVER_SETTING } from './identity.js';
import { parseServerList, type LookupAll } from './servers.js';
import { openProfile, type Profile } from './profile.js';
import { createRelays } from './relays.js';
import { clearUnkept } from './retention.js';
import { keepSession, type ServerState, type SessionState } from './online.js';

export type { ServerState } from './online.js';

export type ClientState = {
  server: ServerState;
  // The server's addresses as configured (HOST:PORT, comma-separated: several processes acting as
  // one, issue 13), the one signed in to (IP:PORT) while online, and why the last session ended
  // or was refused (every address of the last round that failed).
  address: string | null;
  signedInTo: string | null;
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
  // How host names of the server list are looked up (all their addresses); a test passes its own.
  lookup?: LookupAll;
  // false: no listener for direct peer links; every link comes through the relay.
  listen?: boolean;
  // true: LAN discovery as the lan-discovery setting says (parley up, the console); omitted: none
  // (tests and benchmarks that run many clients on one machine, where each would find the others).
  lan?: boolean;
};

export async function startClient(options: ClientOptions): Promise<RunningClient> {
  const { home, identity } = options;
  const log = options.log ?? (() => undefined);
  const backoff = options.backoffMs ?? { first: 500, max: 30_000 };
  const lookup: LookupAll = options.lookup ?? ((host) => dnsLookup(host, { all: true }));
  const profile = await openProfile(home);
  const address = (profile.views.settings[SERVER_SETTING] as string | undefined) ?? null;
  // A list journaled by a build that checked less: no session, and the reason in the state.
  let servers: ReturnType<typeof parseServerList> = [];
  let badList: string | null = null;
  try {
    if (address) servers = parseServerList(address);
  } catch (err) {
    badList = (err as Error).message;
  }
  const state: SessionState = {
    server: address ? 'offline' : 'none',
    address,
    signedInTo: null,
    lastError: badList,
    id: knownId(profile),
    presence: new Map(),
    clockOffsetMs: 0,
    refusedBy: new Set(),
  };
  let closing = false;
  let control: LocalListener | null = null;
  let messenger: Messenger | null = null;
  // Attached UIs hear of what changes the state without an event: presence, the session.
  const stateListeners = new Set<() => void>();
  const stateChanged = (): void => stateListeners.forEach((listener) => listener());

  function current(): ClientState {
    return { ...state, presence: new Map(state.presence), refusedBy: new Set(state.refusedBy), routes: messenger?.routes() ?? new Map(), listenPort: messenger?.listenPort ?? 0 };
  }

  // Made before the messenger, which is given its functions; it subscribes to the profile here.
  const session = keepSession({ profile, identity, servers, state, backoff, lookup, log, changed: stateChanged, messenger: () => messenger });
  const relays = createRelays({ identity, signedIn: session.signedIn });

  try {
    messenger = await startMessenger({
      profile,
      identity,
      id: () => state.id,
      introduce: session.introduce,
      serverOnline: session.online,
      listen: options.listen !== false,
      lan: options.lan === true,
      clockOffsetMs: () => state.clockOffsetMs,
      sessionPort: session.localPort,
      openRelay: (peer, nonce, named) => relays.open(peer, nonce, named),
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
  session.start();
  // Contacts whose invite said where they listen need no server: dialled at once; and the LAN is
  // searched when this client has an id already.
  messenger.dialLocated();
  messenger.refreshLan();

  return {
    profile,
    identity,
    state: current,
    firstLogin: session.firstLogin,
    async close() {
      if (closing) return;
      closing = true;
      const s = session.stop();
      relays.cutAll();
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
