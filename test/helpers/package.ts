// What the package tests (test/package/*) share: the archive of a target, built first when it is
// missing or older than the code it holds (`.ci/run` builds both before `npm test`), and what the
// screen shows once the demo's chat with its bot is open.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './cli.js';

// What goes into an executable: a file newer than the archive makes the archive stale.
const INPUTS = ['src', 'server', 'cert', 'scripts/package', 'package-lock.json'];

const ARCHIVES = { linux: 'parley-linux-x64.tar.gz', win: 'parley-win-x64.zip' } as const;

// The chat with the bot is open on the screen: empty, or showing the notice of the bot's link
// (either, by timing).
export const CHAT_OPEN = ['No messages with Echo bot', 'Echo bot: connected'];

function newestInput(): number {
  let newest = 0;
  const visit = (p: string): void => {
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of INPUTS) visit(path.join(ROOT, p));
  return newest;
}

// => the archive's path, built now (scripts/package/build.mjs) when missing or stale.
export function builtPackage(target: keyof typeof ARCHIVES): string {
  const archive = path.join(ROOT, 'release', ARCHIVES[target]);
  if (!fs.existsSync(archive) || fs.statSync(archive).mtimeMs < newestInput()) {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'package', 'build.mjs'), target], { cwd: ROOT, stdio: 'pipe' });
  }
  return archive;
}
