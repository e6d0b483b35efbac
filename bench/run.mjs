#!/usr/bin/env node
// npm run bench -- NAME [args]: runs bench/NAME.mjs against the compiled code in dist/.
// Without a NAME, lists the benchmarks. Each prints its figures and, last, one JSON line.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const names = fs.readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').map((f) => f.slice(0, -4));
const [name, ...rest] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  process.stderr.write(`usage: npm run bench -- NAME\nbenchmarks: ${names.join(', ')}\n`);
  process.exit(name ? 2 : 0);
}
// The benchmarks run the compiled code: build first so a figure never measures stale code.
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const run = spawnSync(process.execPath, ['--expose-gc', path.join(here, name + '.mjs'), ...rest], { stdio: 'inherit' });
process.exit(run.status ?? 1);
