// This process as one of several (cluster/contract.ts): joining the cluster, and what the process
// does with what the cluster tells it (its ClusterHooks). Registrations and revocations go into
// the registry, sessions on other processes to the watchers here, asks for an introduction to
// introductions.ts; cut off from the cluster, it closes its sessions and refuses logins until the
// cluster is back. A sign-in on a process of several is cluster-login.ts's.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WIRE_CODE } from '../src/net/constants.js';
import type { ControlMessage } from '../src/net/control.js';
import type { Cluster, ClusterHooks, ClusterOptions, IntroduceAnswer, IntroduceAsk } from './cluster/contract.js';
import { startCluster } from './cluster/nats.js';
import { CUT_OFF } from './cluster-login.js';
import type { Conn, Connections } from './connections.js';
import { apply as applyToRegistry, type Registry } from './registry.js';
import { CLUSTER_MARK } from './revoke.js';

export type ClusterMemberDeps = {
  registry: () => Registry;
  connections: Connections;
  // Tells this process's watchers that an id came online or went offline (presence.ts).
  announce: (id: number, online: boolean, at: number) => void;
  revokedElsewhere: (keySha256: string, at: number) => void;
  introduceHere: (ask: IntroduceAsk) => IntroduceAnswer;
  refuse: (conn: Conn, last: ControlMessage | null, reason?: string) => void;
  log: (line: string) => void;
};

export function createClusterMember(deps: ClusterMemberDeps) {
  const { connections, refuse, log } = deps;
  // Whether this process has been cut off from the others for too long to keep its sessions (it
  // refuses logins then).
  let fenced = false;

  const hooks: ClusterHooks = {
    apply: (event) => void applyToRegistry(deps.registry(), event),
    presence: (id, online, at) => {
      // Its own sessions here are announced by login and closing; a session elsewhere of an id
      // that also has one here is the stale one of a dead process.
      if (connections.session(id)) return;
      deps.announce(id, online, at);
    },
    revoked: (key, at) => deps.revokedElsewhere(key, at),
    fenced: (cut) => {
      fenced = cut;
      if (!cut) return log('parley server: the cluster is back: logins are taken again');
      log('parley server: cut off from the cluster: its sessions are closed and logins refused until it is back');
      for (const conn of [...connections.all()]) {
        if (conn.phase.state === 'SESSION') refuse(conn, { type: 'bye', code: WIRE_CODE.SHUTTING_DOWN, reason: CUT_OFF });
      }
    },
    introduce: (ask) => deps.introduceHere(ask),
  };

  return { hooks, fenced: (): boolean => fenced };
}

// Marks the data directory as a cluster process's (revoke.ts refuses to revoke in it while the
// process is stopped), then joins the cluster with these hooks.
export async function joinCluster(options: ClusterOptions, dataDir: string, hooks: ClusterHooks): Promise<Cluster> {
  const mark = { node: options.node, name: options.name, servers: options.servers, public: options.publicAddress };
  await writeFile(path.join(dataDir, CLUSTER_MARK), JSON.stringify(mark, null, 2) + '\n');
  return startCluster(options, hooks);
}
