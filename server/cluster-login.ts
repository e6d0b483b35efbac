// Sign-in on one process of several (cluster/contract.ts): the id comes from the cluster's bucket
// (the same for a key on every process), and the session is claimed there too, so that an id has
// one session in the whole cluster. What a login is otherwise (which id a key has, the refusals)
// is login.ts's, and the session it opens is server.ts's.
import { WIRE_CODE } from '../src/net/constants.js';
import { assignId, type ControlMessage, type ControlOf } from '../src/net/control.js';
import type { Cluster } from './cluster/contract.js';
import type { Conn, Connections } from './connections.js';
import { alreadySignedIn, loginRefused, revokedRefusal } from './login.js';
import type { Registry } from './registry.js';

// Why a process cut off from its cluster refuses logins and closes its sessions.
export const CUT_OFF = 'this server process has lost its cluster; sign in on another';

// A login on a process cut off from its cluster: before it starts, or while the cluster answered.
export function cutOffRefusal(): ControlMessage {
  return loginRefused(WIRE_CODE.SHUTTING_DOWN, CUT_OFF);
}

// How long a login waits for its claim before it opens the session anyway (openBeforeClaimed):
// a claim takes a few ms unless NATS is electing a leader.
const CLAIM_WAIT_MS = 1_000;

export type ClusterLoginDeps = {
  connections: Connections;
  registry: () => Registry;
  // Whether this process is cut off from the cluster (it refuses logins then).
  fenced: () => boolean;
  refuse: (conn: Conn, last: ControlMessage | null, reason?: string) => void;
  // Opens the session: login-ok, the watchers told, the bytes that came with login read.
  open: (conn: Conn, id: number, msg: ControlOf<'login'>, rest: Buffer) => void;
  noteFailure: (err: Error) => void;
};

// => '10.0.0.5' from '10.0.0.5:7300', '::1' from '[::1]:7300'
export function hostOf(address: string): string {
  const colon = address.lastIndexOf(':');
  const host = colon < 0 ? address : address.slice(0, colon);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

export function createClusterLogin(deps: ClusterLoginDeps) {
  const { connections, refuse, open, noteFailure } = deps;

  // `known`: the id decideLogin found for the key, or its candidate when `fresh` (a key the
  // registry does not know yet: the bucket decides).
  async function login(conn: Conn, c: Cluster, known: number, fresh: boolean, msg: ControlOf<'login'>, rest: Buffer): Promise<void> {
    const key = conn.keySha256;
    const registry = deps.registry();
    let id = known;
    try {
      if (fresh) {
        // Two keys racing for one candidate here are told apart by the cluster's create, as on
        // two processes.
        const got = await c.register(key, (taken) => assignId(Buffer.from(key, 'hex'), (n) => taken(n) || registry.byId.has(n)));
        if (got === null) return refuse(conn, loginRefused(WIRE_CODE.ID_EXHAUSTED, "no free id for this key; tell the server's operator"));
        id = got;
      }
      if (conn.phase.state !== 'LOGGING_IN') return;
      if (registry.revoked.has(key)) return refuse(conn, revokedRefusal());
      const here = connections.holder(id);
      if (here && here !== conn) return refuse(conn, alreadySignedIn(here.host));
      connections.claim(conn, id);
      const claiming = c.claim(id, `${conn.host}:${conn.port}`);
      const claimed = await Promise.race([claiming, delay(CLAIM_WAIT_MS)]);
      if (claimed === undefined) return openBeforeClaimed(conn, c, id, claiming, msg, rest);
      if (!claimed.ok) {
        if (connections.holder(id) === conn) connections.unclaim(conn);
        return refuse(conn, alreadySignedIn(hostOf(claimed.holder.address)));
      }
    } catch (err) {
      noteFailure(err as Error);
      return refuse(conn, loginRefused(WIRE_CODE.UNEXPECTED, 'the server cannot reach its cluster; try later'));
    }
    // Gone (or the process cut off) while the cluster answered: the claim is let go.
    if (conn.phase.state !== 'LOGGING_IN' || deps.fenced()) {
      void c.release(id).catch(noteFailure);
      if (conn.phase.state === 'LOGGING_IN') refuse(conn, cutOffRefusal());
      return;
    }
    open(conn, id, msg, rest);
  }

  // The claim is slow: NATS is electing a new leader for the sessions' stream (4 to 9 s when a
  // NATS node dies). No process holds the id as far as the mirror knows, so the session opens
  // now and the claim goes on: one that another process wins after all (two sign-ins of one
  // key during that election) closes this session; one that lands after this session ended is
  // let go. Sign-ins of known keys so go on while a NATS node is down.
  function openBeforeClaimed(conn: Conn, c: Cluster, id: number, claiming: ReturnType<Cluster['claim']>, msg: ControlOf<'login'>, rest: Buffer): void {
    const there = c.holderOf(id);
    if (there) {
      if (connections.holder(id) === conn) connections.unclaim(conn);
      void claiming.then((r) => (r.ok && !connections.holder(id) ? c.release(id) : undefined)).catch(noteFailure);
      return refuse(conn, alreadySignedIn(hostOf(there.address)));
    }
    void claiming.then(
      (r) => {
        const current = connections.session(id);
        if (!r.ok && current === conn) return refuse(conn, { type: 'bye', code: WIRE_CODE.SIGNED_IN_ELSEWHERE, reason: `already signed in from ${hostOf(r.holder.address)}` });
        if (r.ok && !connections.holder(id)) return void c.release(id).catch(noteFailure);
      },
      (err: Error) => noteFailure(err),
    );
    if (conn.phase.state !== 'LOGGING_IN' || deps.fenced()) return;
    open(conn, id, msg, rest);
  }

  return { login };
}
