// npm run bench -- package [RUNS]   (default 7 runs of each start)
// (standalone, after `npm run build` and `npm run package -- linux win`: node bench/package.mjs)
// The single executables of issue 15 (scripts/package/build.mjs): their sizes, and how long they
// take to start: `--help` to its exit, and `demo --no-ui --json` to its first line (its server,
// bot and client up; the first start on a new folder also makes the two profiles and their
// keys), and `demo` (the UI) in a terminal (tmux, 100x30) to its first screen: the pane
// showing the chat with the echo bot and the key hints, polled every 50 ms; each the median of RUNS. The baseline, in the same run: the same commands from source,
// `node dist/src/cli.js`. parley.exe runs under wine (when /usr/lib/wine/wine64 is there) in a
// new prefix set to Windows 10, output to files (node.exe under wine refuses pipes); wine's
// first start in the prefix is reported apart, as wineserver stays up between the others.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const RUNS = Number(process.argv[2] ?? 7);
const WINE = '/usr/lib/wine/wine64';
const TAR = path.join(ROOT, 'release', 'parley-linux-x64.tar.gz');
const ZIP = path.join(ROOT, 'release', 'parley-win-x64.zip');
for (const f of [TAR, ZIP]) if (!fs.existsSync(f)) throw new Error(`${f} is missing: npm run package -- linux win`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-package-'));
const prefix = path.join(dir, 'wine');
const wineEnv = { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all', LANG: 'C.UTF-8' };
delete wineEnv.PARLEY_HOME;
const env = { PATH: path.join(dir, 'no-node'), HOME: dir, LANG: 'C.UTF-8', TMPDIR: os.tmpdir() };
fs.mkdirSync(env.PATH);
execFileSync('tar', ['-xzf', TAR, '-C', dir]);
fs.mkdirSync(path.join(dir, 'win'));
execFileSync('unzip', ['-q', ZIP, '-d', path.join(dir, 'win')]);
const linuxExe = path.join(dir, 'parley-linux-x64', 'parley');
const winExe = path.join(dir, 'win', 'parley.exe');

// How to start each: [file, args before parley's own, environment].
const KINDS = {
  source: [process.execPath, [path.join(ROOT, 'dist', 'src', 'cli.js')], { ...env, PATH: process.env.PATH }],
  linux: [linuxExe, [], env],
  wine: [WINE, [winExe], wineEnv],
};
const hasWine = fs.existsSync(WINE);

// Milliseconds from spawn to exit, output to files (wine needs it; the others do not mind).
function timed(kind, args) {
  const [file, pre, e] = KINDS[kind];
  const out = fs.openSync(path.join(dir, 'out'), 'w');
  const started = process.hrtime.bigint();
  const r = spawnSync(file, [...pre, ...args], { env: e, stdio: ['ignore', out, out] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  fs.closeSync(out);
  if (r.status !== 0) throw new Error(`${kind} ${args.join(' ')}: exit ${r.status}: ${fs.readFileSync(path.join(dir, 'out'), 'utf8')}`);
  return ms;
}

// Milliseconds from spawn to the demo's first line (read from its file every 20 ms), then SIGINT
// and, for wine, the demo's processes ended with the prefix's wineserver at the very end.
async function demoStart(kind, home) {
  const [file, pre, e] = KINDS[kind];
  const outFile = path.join(dir, `demo-${kind}.out`);
  const out = fs.openSync(outFile, 'w');
  const started = process.hrtime.bigint();
  const child = spawn(file, [...pre, 'demo', '--no-ui', '--json', '--home', kind === 'wine' ? `Z:${home.replace(/\//g, '\\')}` : home], { env: e, stdio: ['ignore', out, 'ignore'] });
  fs.closeSync(out);
  const exited = new Promise((resolve) => child.on('close', resolve));
  for (;;) {
    if (fs.readFileSync(outFile, 'utf8').includes('\n')) break;
    if (child.exitCode !== null) throw new Error(`${kind} demo ended first`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  child.kill('SIGINT');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
  return ms;
}

// Milliseconds from the start of a tmux session running `demo` (the UI) on a known folder until
// the pane shows the chat screen (the bot in the list, the key hints), then Ctrl+C.
async function screenStart(kind, home) {
  const [file, pre, e] = KINDS[kind];
  const socket = `parley-bench-${process.pid}`;
  const tmux = (...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const vars = Object.entries({ ...e, TERM: 'xterm-256color' })
    .filter(([k]) => ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TERM', 'WINEPREFIX', 'WINEDEBUG'].includes(k))
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ');
  const where = kind === 'wine' ? `Z:${home.replace(/\//g, '\\')}` : home;
  const command = [file, ...pre, 'demo', '--home', where].map((a) => `'${a}'`).join(' ');
  const code = path.join(dir, `screen-${kind}.code`);
  fs.rmSync(code, { force: true });
  const started = process.hrtime.bigint();
  tmux('new-session', '-d', '-s', 'b', '-x', '100', '-y', '30', 'sh', '-c', `trap '' INT HUP; env -i ${vars} ${command} 2>/dev/null; echo $? > '${code}'; sleep 30`);
  try {
    for (const end = Date.now() + 120_000; ; await new Promise((r) => setTimeout(r, 50))) {
      const pane = tmux('capture-pane', '-p', '-t', 'b');
      if (pane.includes('Echo bot') && pane.includes('Ctrl+C quit')) break;
      if (Date.now() > end) throw new Error(`${kind} demo: no first screen within 120 s:\n${pane}`);
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    tmux('send-keys', '-t', 'b', 'C-c');
    // Its end, before the next start (the bot's and the client's sockets gone).
    for (const end = Date.now() + 20_000; Date.now() < end && !fs.existsSync(code); ) await new Promise((r) => setTimeout(r, 100));
    return ms;
  } finally {
    tmux('kill-server');
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (ms) => Math.round(ms);

const sizes = {
  tar_gz_mb: fs.statSync(TAR).size / 1e6,
  linux_exe_mb: fs.statSync(linuxExe).size / 1e6,
  zip_mb: fs.statSync(ZIP).size / 1e6,
  win_exe_mb: fs.statSync(winExe).size / 1e6,
  addon_linux_kb: fs.statSync(path.join(dir, 'parley-linux-x64', 'classic-level.node')).size / 1e3,
  addon_win_kb: fs.statSync(path.join(dir, 'win', 'classic-level.node')).size / 1e3,
};
console.log('sizes (MB / kB):', JSON.stringify(sizes, (k, v) => (typeof v === 'number' ? Number(v.toFixed(1)) : v)));

const result = { runs: RUNS, ...Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, Number(v.toFixed(1))])) };
let wineFirst = null;
if (hasWine) {
  // The new prefix, and wine's first start in it.
  const t = process.hrtime.bigint();
  execFileSync(WINE, ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { env: wineEnv, stdio: 'ignore' });
  result.wine_prefix_ms = round(Number(process.hrtime.bigint() - t) / 1e6);
  wineFirst = timed('wine', ['--help']);
  result.wine_first_help_ms = round(wineFirst);
}
const kinds = ['source', 'linux', ...(hasWine ? ['wine'] : [])];
// --help, the kinds taking turns so that they share the machine's load.
const help = Object.fromEntries(kinds.map((k) => [k, []]));
for (let i = 0; i < RUNS; i++) for (const k of kinds) help[k].push(timed(k, ['--help']));
for (const k of kinds) {
  result[`${k}_help_ms`] = round(median(help[k]));
  console.log(`--help ${k}: median ${round(median(help[k]))} ms (${help[k].map(round).join(', ')})`);
}
// demo: the first start on a new folder, then a start on the same folder.
for (const k of kinds) {
  const first = [];
  const again = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    const home = path.join(dir, `demo-${k}-${i}`);
    first.push(await demoStart(k, home));
    again.push(await demoStart(k, home));
  }
  result[`${k}_demo_first_ms`] = round(median(first));
  result[`${k}_demo_again_ms`] = round(median(again));
  console.log(`demo ${k}: new folder ${first.map(round).join(', ')} ms; same folder ${again.map(round).join(', ')} ms`);
  // The screen, on a folder the runs above made.
  const screen = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) screen.push(await screenStart(k, path.join(dir, `demo-${k}-${i}`)));
  result[`${k}_demo_screen_ms`] = round(median(screen));
  console.log(`demo ${k} to the first screen (tmux), same folder: ${screen.map(round).join(', ')} ms`);
}
if (hasWine) spawnSync('/usr/lib/wine/wineserver', ['-k'], { env: wineEnv });
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(result));
