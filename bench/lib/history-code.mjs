// The code the history bench measures (bench/history.mjs, lib/history-cold.mjs): the modules it
// calls, loaded from a copy of dist/ taken when the run starts (codeSnapshot in history.mjs), so
// that a rebuild of dist/ while a run goes on cannot measure two versions at once.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export async function loadCode(dist) {
  const load = (...parts) => import(pathToFileURL(path.join(dist, 'src', ...parts)).href);
  const [{ openProfile }, { eventKey }, { chatKey }, { keysFor }, { levelAt }] = await Promise.all([
    load('node', 'profile.js'),
    load('events', 'codec.js'),
    load('projections', 'message-keys.js'),
    load('node', 'history.js'),
    load('events', 'level.js'),
  ]);
  return { openProfile, eventKey, chatKey, keysFor, levelAt };
}
