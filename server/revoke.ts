// `parley server revoke`: through the running server when one holds the data directory (its
// journal is locked: LevelDB allows one process), else straight into the stopped server's
// journal, which the server replays at its next start.
import fs from 'node:fs';
import path from 'node:path';
import { normalKeySha256 } from '../cert/keys.js';
import { badInput, isParleyError } from '../src/errors.js';
import { openJournal } from '../src/events/journal.js';
import { requestAdmin } from './admin.js';
import { adminFailed, adminUnreachable, badKeySha256 } from './errors.js';
import { loadProjection } from '../src/projections/checkpoint.js';
import { SERVER_EVENTS, type ServerEvent } from './events.js';
import { REGISTRY } from './registry.js';
import type { RevokeResult } from './revocation.js';

// Written into the data directory of a process that runs in a cluster (cluster-member.ts, joinCluster).
export const CLUSTER_MARK = 'cluster.json';

export type RevokeOutcome = RevokeResult & { via: 'running-server' | 'journal' };

export async function revokeKey(dataDir: string, keySha256: string): Promise<RevokeOutcome> {
  // As typed on the command line, where spaces around it are forgiven too. => 'ab12…' from ' AB:12:… '
  const key = normalKeySha256(String(keySha256).trim());
  if (key === null) throw badKeySha256(keySha256);
  const journalDir = path.join(dataDir, 'journal');
  if (!fs.existsSync(journalDir)) {
    throw badInput('SERVER_NO_DATA', `${dataDir} holds no server data (no journal): pass the --data directory the server runs with`);
  }
  let journal;
  try {
    journal = await openJournal<ServerEvent>(journalDir, dataDir, { schema: SERVER_EVENTS });
  } catch (err) {
    if (isParleyError(err) && err.code === 'PROFILE_IN_USE') return viaRunningServer(dataDir, key);
    throw err;
  }
  try {
    // A process of a cluster: its journal is not where revocations live (the cluster's bucket
    // is), so a revocation written here would reach no process.
    if (fs.existsSync(path.join(dataDir, CLUSTER_MARK))) {
      throw badInput('SERVER_IN_CLUSTER', `${dataDir} is the data of a cluster's process, which is not running: revoke through any running process of the cluster (its --data directory)`);
    }
    const { state: registry } = await loadProjection(journal, REGISTRY);
    const already = registry.revoked.has(key);
    if (!already) await journal.append({ type: 'client.revoked', keySha256: key });
    return { keySha256: key, revoked: !already, id: registry.byKey.get(key) ?? null, closed: 0, via: 'journal' };
  } finally {
    await journal.close();
  }
}

async function viaRunningServer(dataDir: string, key: string): Promise<RevokeOutcome> {
  let answer;
  try {
    answer = await requestAdmin(dataDir, { op: 'revoke', keySha256: key });
  } catch (err) {
    throw adminUnreachable(dataDir, err);
  }
  if (!answer.ok) throw adminFailed(answer.code, answer.message);
  const a = answer as unknown as RevokeResult;
  return { keySha256: a.keySha256, revoked: a.revoked, id: a.id, closed: a.closed, via: 'running-server' };
}
