// Stopping the server, in an order that loses nothing: no new connections, a bye to every session
// and a moment for it to leave, then the cluster, the journal's last writes and the registry's
// checkpoint, the journal closed last. And undoing a start that failed half-way, in the same order.
import type { Journal } from '../src/events/journal.js';
import { WIRE_CODE } from '../src/net/constants.js';
import type { ControlMessage } from '../src/net/control.js';
import { saveCheckpoint } from '../src/projections/checkpoint.js';
import type { Cluster } from './cluster/contract.js';
import type { Conn, Connections } from './connections.js';
import type { ServerEvent } from './events.js';
import { REGISTRY, type Registry } from './registry.js';

// What a start has brought up so far (null: not yet, or not at all).
export type Started = {
  sweeper: ReturnType<typeof setInterval>;
  // The acceptor once it listens.
  listening: { close: () => Promise<void> } | null;
  cluster: Cluster | null;
  journal: Journal<ServerEvent>;
};

export type Running = {
  sweeper: ReturnType<typeof setInterval>;
  acceptor: { close: () => Promise<void>; abortHandshakes: () => void };
  admin: { close: () => Promise<void> } | null;
  connections: Connections;
  refuse: (conn: Conn, last: ControlMessage | null, reason?: string) => void;
  closeGraceMs: number;
  cluster: Cluster | null;
  noteClusterFailure: (err: Error) => void;
  // Resolves once every journal write has settled (recorder.ts).
  settled: () => Promise<void>;
  journal: Journal<ServerEvent>;
  // false in a cluster: the registry is then the cluster's, and no checkpoint of it is written.
  alone: boolean;
  registry: Registry;
  log: (line: string) => void;
};

// A start that failed: what it brought up is closed again, and the caller throws its error.
export async function undoStart(s: Started): Promise<void> {
  clearInterval(s.sweeper);
  if (s.listening) void s.listening.close();
  await s.cluster?.close();
  await s.journal.close();
}

// Says bye to every session, closes relays, the cluster's connection and the journal.
export async function shutdown(r: Running): Promise<void> {
  const { connections, journal } = r;
  clearInterval(r.sweeper);
  const stopped = r.acceptor.close();
  await r.admin?.close();
  r.acceptor.abortHandshakes();
  for (const conn of [...connections.all()]) {
    if (conn.phase.state === 'SESSION') r.refuse(conn, { type: 'bye', code: WIRE_CODE.SHUTTING_DOWN, reason: 'the server is stopping' });
    else r.refuse(conn, null, WIRE_CODE.SHUTTING_DOWN);
  }
  // Give the byes a moment to leave, then cut what is left. Real time, not the injected clock:
  // this waits on sockets, it decides nothing.
  const deadline = Date.now() + r.closeGraceMs;
  while (connections.all().size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  for (const conn of connections.all()) conn.socket.destroy();
  await stopped;
  await r.cluster?.close().catch(r.noteClusterFailure);
  // Every write settled, so the registry is exactly the journal up to its last seq (alone;
  // in a cluster it is the cluster's, not this journal's).
  await r.settled();
  if (r.alone) await saveCheckpoint(journal, REGISTRY, r.registry, journal.lastSeq()).catch((err: Error) => r.log(`parley server: cannot write the registry's checkpoint: ${err.message}`));
  await journal.close();
}
