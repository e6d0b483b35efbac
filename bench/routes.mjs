// npm run bench -- routes [ROUNDS]
// (standalone, after `npm run build`: node bench/routes.mjs [ROUNDS]; as root: network namespaces)
//
// The time from `parley up` on both sides to the first message delivered, for each route of the
// ladder (issue 10), with real `parley` processes in network namespaces (bench/lib/netns.mjs):
//   lan      two self-signed profiles on a closed LAN, no server, no default route
//   direct   two clients of an operator's server with public addresses, no NAT or firewall
//   punched  the same clients behind two NATs that keep ports and drop unsolicited packets
//   relay    behind two symmetric NATs (MASQUERADE --random-fully): the punch fails, the relay
// Each round: the profiles are made and made contacts of each other while no client runs, a
// message is queued on Alice's side (`parley send`, the outbox), then both `parley up` start at
// once (t0). The figure is Bob's `received_at` of that message (the journal's own clock, the
// machine's) minus t0: it holds each process's start (Node, the key, LevelDB), the server login,
// presence, the introduction and the route's own work. The median of ROUNDS (3) per route.
//
// The last line is one JSON object:
//   {"bench":"routes","rounds":…,"lan_ms":…,"direct_ms":…,"punched_ms":…,"relay_ms":…}
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIST, makePki, PASSWORD } from './lib/pair.mjs';
import { inNs, makeClosedLan, makeNatPair, WAN_ADDRESS } from './lib/netns.mjs';

const ROUNDS = Number(process.argv[2] ?? 3);
const CLI = path.join(DIST, 'src', 'cli.js');
const SERVER_PORT = 7300;
const log = (line) => process.stderr.write(`[routes] ${line}\n`);

if (process.getuid?.() !== 0 || spawnSync('ip', ['netns', 'list']).status !== 0) {
  log('needs root and ip netns (iproute2), and iptables');
  process.exit(2);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-routes-'));
const passwordFile = path.join(dir, 'password');
fs.writeFileSync(passwordFile, PASSWORD + '\n');
const env = { ...process.env, PARLEY_KEY_PASSWORD: PASSWORD };
const procs = [];

function parley(args, home) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--home', home], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`parley ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// A program in a namespace; resolves its `done` when it prints `text` on stderr.
function inNamespace(namespace, args, text) {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  let said = '';
  const seen = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} in ${namespace} did not say "${text}": ${said}`)), 20_000);
    child.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} in ${namespace} ended before it said "${text}": ${said}`));
    });
    for (const s of [child.stdout, child.stderr]) {
      s.setEncoding('utf8').on('data', (d) => {
        said += d;
        if (said.includes(text)) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
  return { child, seen, said: () => said };
}

async function stop(p) {
  if (p.child.exitCode !== null) return;
  const closed = new Promise((resolve) => p.child.on('close', resolve));
  p.child.kill('SIGTERM');
  await closed;
}

// Waits for Bob to hold the message and returns his received_at.
async function receivedAt(bobHome, aliceId, id) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const out = spawnSync(process.execPath, [CLI, 'history', '--peer', String(aliceId), '--json', '--home', bobHome], { env, encoding: 'utf8' }).stdout;
    const row = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((m) => m.id === id);
    if (row) return row.received_at;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the message did not arrive within 30 s');
}

// One round: profiles at `homes` already made contacts; the message queued; both up at once.
async function firstMessage(homes, namespaces, ids) {
  const sent = JSON.parse(parley(['send', '--to', String(ids.bob), '--json', 'first'], homes.alice));
  const t0 = Date.now();
  const a = inNamespace(namespaces.alice, ['up', '--home', homes.alice, '--password-file', passwordFile], 'the client runs on');
  const b = inNamespace(namespaces.bob, ['up', '--home', homes.bob, '--password-file', passwordFile], 'the client runs on');
  let ms;
  try {
    // Bob's history is read through his running client once it runs: read before, it would open
    // his store itself and hold it while his client starts.
    await Promise.all([a.seen, b.seen]);
    ms = (await receivedAt(homes.bob, ids.alice, sent.id)) - t0;
  } catch (err) {
    throw new Error(`${err.message}\nalice: ${a.said()}\nbob: ${b.said()}`);
  } finally {
    await Promise.all([stop(a), stop(b)]);
  }
  // The route the message went by: the first link Alice's journal opened.
  const opened = parley(['journal', 'inspect', '--type', 'link.opened', '--json'], homes.alice).split('\n').filter(Boolean);
  return { ms, route: opened.length > 0 ? JSON.parse(opened[0]).route : null };
}

// Self-signed profiles on a closed LAN: ids known at init, LAN discovery on (the default).
async function lanRound(round) {
  const net = makeClosedLan(`r${process.pid % 10000}`);
  try {
    const homes = { alice: path.join(dir, `lan-a-${round}`), bob: path.join(dir, `lan-b-${round}`) };
    const ids = {};
    for (const [name, home] of Object.entries(homes)) ids[name] = JSON.parse(parley(['init', '--name', name, '--json'], home)).id;
    parley(['contacts', 'add', String(ids.bob), '--name', 'bob'], homes.alice);
    parley(['contacts', 'add', String(ids.alice), '--name', 'alice'], homes.bob);
    return await firstMessage(homes, { alice: net.a, bob: net.b }, ids);
  } finally {
    net.remove();
  }
}

// Clients of a server on the wan: in the NATs' own namespaces (public addresses, `direct`), or
// behind them (`punched` or `relay` as the NATs make it). Ids come from a first login.
async function serverRound(route, round, files) {
  const net = makeNatPair(`r${process.pid % 10000}`);
  if (route === 'relay') net.masquerade('symmetric');
  // `direct`: the clients run on the NATs themselves, their public addresses open to the wan (no
  // firewall in front of their listeners).
  if (route === 'direct') for (const nat of [net.natA, net.natB]) inNs(nat, ['iptables', '-F', 'INPUT']);
  const data = path.join(dir, `server-${route}-${round}`);
  const h = files.server;
  const server = inNamespace(net.wan, ['server', '--listen', `${WAN_ADDRESS}:${SERVER_PORT}`, '--ca', h.caFile, '--cert', h.certFile, '--key', h.keyFile, '--data', data, '--password-file', passwordFile], 'listening on');
  try {
    await server.seen;
    const namespaces = route === 'direct' ? { alice: net.natA, bob: net.natB } : { alice: net.a, bob: net.b };
    const homes = { alice: path.join(dir, `${route}-a-${round}`), bob: path.join(dir, `${route}-b-${round}`) };
    const ids = {};
    for (const [name, home] of Object.entries(homes)) {
      const f = files[name];
      parley(['init', '--server', `${WAN_ADDRESS}:${SERVER_PORT}`, '--ca', f.caFile, '--cert', f.certFile, '--key', f.keyFile, '--password-file', passwordFile], home);
      parley(['settings', 'set', 'lan-discovery', 'off'], home);
      const first = inNamespace(namespaces[name], ['up', '--home', home, '--password-file', passwordFile], 'online at');
      await first.seen;
      ids[name] = JSON.parse(parley(['status', '--json'], home)).id;
      await stop(first);
    }
    parley(['contacts', 'add', String(ids.bob), '--name', 'bob'], homes.alice);
    parley(['contacts', 'add', String(ids.alice), '--name', 'alice'], homes.bob);
    return await firstMessage(homes, namespaces, ids);
  } finally {
    await stop(server);
    net.remove();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const files = await makePki(dir, ['server', 'alice', 'bob']);
  const times = { lan: [], direct: [], punched: [], relay: [] };
  for (let round = 0; round < ROUNDS; round++) {
    times.lan.push(await lanRound(round));
    for (const route of ['direct', 'punched', 'relay']) times[route].push(await serverRound(route, round, files));
    log(`round ${round + 1}: ${Object.entries(times).map(([r, t]) => `${r} ${t[round].ms} ms (went by ${t[round].route})`).join(', ')}`);
  }
  const result = { bench: 'routes', rounds: ROUNDS };
  for (const [route, t] of Object.entries(times)) result[`${route}_ms`] = median(t.map((x) => x.ms));
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}
