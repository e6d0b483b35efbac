#!/usr/bin/env node
// npm run screens: text captures of the screen's main views in English and Russian, written to
// docs/screens/VIEW.LANG.txt from one run of `parley demo` in tmux, 100x30: the tour the
// end-to-end test takes (test/helpers/demo-screens.mjs, test/e2e/demo-tui.test.ts). Runs the
// built dist/ (npm run screens builds first). The ids, times and speeds are made stable
// (stabilize); docs/screens/README.md says what else may change between runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, hasTmux, idsOn, openDemo, ROOT, stabilize, tour } from '../test/helpers/demo-screens.mjs';

const OUT = path.join(ROOT, 'docs', 'screens');

if (!hasTmux()) {
  process.stderr.write('screens: tmux is needed (Debian: apt-get install tmux)\n');
  process.exit(2);
}
if (!fs.existsSync(CLI)) {
  process.stderr.write(`screens: ${CLI} is missing: build first (npx tsc -p .)\n`);
  process.exit(2);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-screens-'));
const shown = new Map();
let demo = null;
try {
  demo = await openDemo({ work });
  await tour(demo, { work, onScreen: (name, lang, text) => shown.set(`${name}.${lang}`, text) });
  demo.keys('C-c');
  const code = await demo.ended();
  if (code !== 0) throw new Error(`parley demo ended with ${code}`);
  // The ids as the first screen shows them (each later one shows the same).
  const ids = idsOn(shown.get('chat.en'));
  fs.mkdirSync(OUT, { recursive: true });
  for (const [name, text] of shown) {
    const file = path.join(OUT, `${name}.txt`);
    fs.writeFileSync(file, stabilize(text, ids));
    process.stdout.write(`${path.relative(ROOT, file)}\n`);
  }
} catch (err) {
  process.stderr.write(`screens: ${err.message}\n`);
  if (demo) process.stderr.write(`what parley demo wrote to standard error:\n${demo.stderr()}\n`);
  process.exitCode = 1;
} finally {
  await demo?.close();
  fs.rmSync(work, { recursive: true, force: true });
}
