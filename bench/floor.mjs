// npm run bench -- floor DIR [ROUNDS]
// The floor under a page of history (issue 7, page_p99_ms), taken apart on a profile the history
// bench kept: `PARLEY_BENCH_KEEP=1 npm run bench -- history` logs the run's directory DIR, which
// holds `before-clear` (the profile before its clear) and `code` (the dist/ it measured). Each
// configuration below reads 1,000 pages of 50 messages at random places of random chats with bare
// classic-level (no Parley code on the path), in a new process, the configurations in turns,
// ROUNDS times (default 2, the seed of round r the same for every configuration):
//   slices-1, -4, -8, -16  the chat's entries by a reverse range read, then the page's 50 events
//                          in 1, 4, 8 or 16 getMany at once (libuv's pool as large, at least 4);
//                          Parley reads them in 4 (getSpread, src/node/history.ts)
//   files-256, files-all   as slices-4, with LevelDB's table cache at 256 files, or at every table
//                          file of the store, instead of Parley's 64 (MAX_OPEN_FILES, level.ts)
//   by-chat                the entries and the page's messages as two range reads at once, from a
//                          copy of the store in which every message event is also stored under its
//                          chat (`m`, peer, seq): what a layout of texts by chat would read. The
//                          copy is made once, in DIR/by-chat (some 3 minutes at 10,000,000 messages)
// Each process prints its p50, p99, p99 without its first 40 pages (those open LevelDB's tables
// and have V8 compile the decoder) and its RSS after the reads; the last line is one JSON object
// with each configuration's medians over the rounds.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { unpack } from 'msgpackr';
import { median, prng, stats } from './lib/figures.mjs';
import { barePage, loadCode, settle } from './lib/history-code.mjs';

const PAGE = 50;
const READS = 1000;
const M = 0x6d; // the by-chat copy's prefix, one no view uses (message-keys.ts, PREFIX)
const CONFIGS = ['slices-1', 'slices-4', 'slices-8', 'slices-16', 'files-256', 'files-all', 'by-chat'];
const log = (line) => process.stderr.write(`[floor] ${line}\n`);

// How many getMany a page's events are read in (slices-N; 4, as Parley, for the others).
function slicesOf(config) {
  return config.startsWith('slices-') ? Number(config.slice('slices-'.length)) : 4;
}

function mKey(peer, seq) {
  const key = Buffer.allocUnsafe(12);
  key[0] = M;
  key.writeUIntBE(peer, 1, 5);
  key.writeUIntBE(seq, 6, 6);
  return key;
}

// ---- a child: node bench/floor.mjs --child CONFIG SEED STORE CODE
async function child([config, seed, store, code]) {
  const fns = await loadCode(code);
  const { chatKey, keysFor, levelAt } = fns;
  const tables = fs.readdirSync(store).filter((f) => f.endsWith('.ldb')).length;
  const files = config === 'files-256' ? 256 : config === 'files-all' ? tables + 16 : 0;
  const db = files ? new ClassicLevel(store, { keyEncoding: 'buffer', valueEncoding: 'buffer', maxOpenFiles: files }) : levelAt(store);
  await db.open();
  const bounds = [];
  for (let peer = 1; ; peer++) {
    const range = { gte: chatKey(peer, 0), lt: chatKey(peer + 1, 0), limit: 1 };
    const [lo] = await db.keys(range).all();
    if (!lo) break;
    const [hi] = await db.keys({ ...range, reverse: true }).all();
    bounds.push([peer, lo.readUIntBE(6, 6), hi.readUIntBE(6, 6)]);
  }
  const slices = slicesOf(config);
  const want = keysFor(PAGE);
  const random = prng(Number(seed));
  const times = [];
  for (let k = 0; k < READS; k++) {
    const [peer, lo, hi] = bounds[Math.floor(random() * bounds.length)];
    const before = lo + Math.floor(random() * (hi + 1 - lo + 1));
    const t = performance.now();
    if (config === 'by-chat') {
      const entries = db.iterator({ gte: chatKey(peer, 0), lt: chatKey(peer, before), reverse: true, limit: want });
      const messages = db.iterator({ gte: mKey(peer, 0), lt: mKey(peer, before), reverse: true, limit: PAGE });
      const [, page] = await Promise.all([entries.nextv(want), messages.nextv(PAGE)]);
      entries.close().catch(() => undefined);
      messages.close().catch(() => undefined);
      for (const [, value] of page) unpack(value);
    } else {
      await barePage(db, fns, peer, before, PAGE, slices);
    }
    times.push(performance.now() - t);
  }
  const rss = process.memoryUsage().rss;
  await db.close();
  const { p50, p99 } = stats(times);
  process.stdout.write(JSON.stringify({ config, seed, tables, p50, p99, p99From40: stats(times.slice(40)).p99, rssMib: rss / 2 ** 20 }) + '\n');
}

// The by-chat copy: the journal of `before-clear` with every message event also under its chat.
async function byChat(dir, code) {
  const store = path.join(dir, 'by-chat');
  if (fs.existsSync(store)) return store;
  const { eventKey, levelAt } = await loadCode(code);
  const temp = `${store}.tmp`;
  fs.rmSync(temp, { recursive: true, force: true });
  fs.cpSync(path.join(dir, 'before-clear', 'journal'), temp, { recursive: true });
  const db = levelAt(temp);
  await db.open();
  const t0 = performance.now();
  const it = db.iterator({ gte: eventKey(0), lt: eventKey(2 ** 47) });
  let batch = db.batch();
  let copied = 0;
  for (let entries = await it.nextv(2000); entries.length > 0; entries = await it.nextv(2000)) {
    for (const [key, value] of entries) {
      const event = unpack(value);
      if (event.type !== 'message.sent' && event.type !== 'message.received') continue;
      batch.put(mKey(event.peer, key.readUIntBE(3, 6)), value);
      copied++;
    }
    if (batch.length >= 10_000) {
      await batch.write();
      batch = db.batch();
    }
  }
  await batch.write();
  await it.close();
  await db.close();
  const settleMs = await settle(levelAt, temp);
  fs.renameSync(temp, store);
  log(`by-chat copy: ${copied.toLocaleString('en-US')} message events in ${((performance.now() - t0) / 1000).toFixed(0)} s (settled in ${(settleMs / 1000).toFixed(0)} s)`);
  return store;
}

if (process.argv[2] === '--child') {
  await child(process.argv.slice(3));
} else {
  const [dir, roundsArg] = process.argv.slice(2);
  if (!dir || !fs.existsSync(path.join(dir, 'before-clear', 'journal'))) {
    process.stderr.write('usage: npm run bench -- floor DIR [ROUNDS]  (DIR: a history run kept with PARLEY_BENCH_KEEP=1)\n');
    process.exit(2);
  }
  const code = path.join(dir, 'code', 'dist');
  const journal = path.join(dir, 'before-clear', 'journal');
  const chatStore = await byChat(dir, code);
  const rounds = Number(roundsArg ?? 2);
  const results = Object.fromEntries(CONFIGS.map((c) => [c, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const config of CONFIGS) {
      const slices = slicesOf(config);
      const store = config === 'by-chat' ? chatStore : journal;
      const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', config, String(round), store, code], {
        env: { ...process.env, UV_THREADPOOL_SIZE: String(Math.max(4, slices)) },
        encoding: 'utf8',
      });
      if (run.status !== 0) throw new Error(`${config}: ${run.stderr}`);
      const r = JSON.parse(run.stdout.trim().split('\n').pop());
      results[config].push(r);
      log(`${config.padEnd(9)} round ${round}: p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} (from page 40: ${r.p99From40.toFixed(2)}) ms, rss ${r.rssMib.toFixed(0)} MiB, ${r.tables} tables`);
    }
  }
  const summary = { bench: 'floor', rounds };
  for (const [config, rs] of Object.entries(results)) {
    const two = (xs) => Math.round(median(xs) * 100) / 100;
    summary[config] = { p50: two(rs.map((r) => r.p50)), p99: two(rs.map((r) => r.p99)), p99_from_40: two(rs.map((r) => r.p99From40)), rss_mib: Math.round(median(rs.map((r) => r.rssMib))) };
  }
  process.stdout.write(JSON.stringify(summary) + '\n');
}
