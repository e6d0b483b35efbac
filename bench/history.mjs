// npm run bench -- history [MESSAGES]
// Builds a profile of MESSAGES chat messages (default 10,000,000; rounded down to a multiple of
// 10) across 50 chats, with their receipts, reads and quota spends: 3.5 events a message, so
// 35,000,000 events by default. Appends go through profile.appendMany (the stored messages view
// is derived in the same LevelDB batch as the events, so what is appended has caught up), in
// batches of 1,000 events with 8 in flight, taking turns with the same events written raw
// (classic-level chained batch puts of eventKey(seq) -> msgpackr pack) into a store of their own,
// as bench/journal does.
//
// Measured at two points: "1m" at 1,000,000 messages, or at MESSAGES / 10 when MESSAGES is below
// 10,000,000 (so `history 300000` measures at 30,000 and at 300,000 messages; the JSON fields keep
// the names *_1m); and at the end. At each point the profile is closed and three new processes
// (`node bench/lib/history-cold.mjs HOME SEED FIRSTS DIST`) each open it cold, time openProfile until
// ready, read 1,000 pages of 50 messages at random places of random chats (seeded, so the same
// places every run), timing each, and report the RSS after the reads; each figure is the median
// of the three. Each child then reads the same places with bare classic-level (floorOf): the
// floor under a page on this machine, reported beside it (page_floor_p99_ms). The build leaves
// LevelDB owing compactions, which the first process to open the store pays while it reads;
// so the three children run again once those are done (settle), and report the *_settled
// figures: a profile that grew over years, not in minutes. Then the profile is opened again in
// this process and the appends go on.
// At the end: clearChat of peer 1, the chat that holds 2% of the messages (200,000 of 10M).
//
// The events of 10 messages, 35 events, always the same pattern (the peer of each message comes
// from a hash of its number, peer 1 for 1 in 50, the other 49 peers share the rest):
//   out: sent, quota.spent outbound, transmitted; delivered one message later
//   in:  received, quota.spent inbound
//   3 reads in 10 messages: by me of the incoming message just received (twice), by the peer of
//   my last message (once).
// Events are generated a round at a time (20,000 events), outside the timed part, for each side
// alike; only appending is timed. Memory stays flat: no event outlives its round.
//
// The code measured is dist/ as bench/run.mjs built it, copied into the run's temp directory at
// the start: this process and the cold children all load that copy, whatever happens to dist/
// meanwhile. The human line names the commit (and how many files of src/ differed from it).
//
// PARLEY_BENCH_KEEP=1 keeps the run's directory (its path is logged): the profile after the clear,
// `before-clear` (a copy from before it) and the code, for a closer look with other tools.
//
// Prints one human line, then one JSON line, last.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { Packr } from 'msgpackr';
import { du, fmt, gc, median, mibTenths as mib, rate } from './lib/figures.mjs';
import { loadCode, settle } from './lib/history-code.mjs';
import { batchesOf, chatsOf, EVENTS_PER_BLOCK, PEERS } from './lib/history-events.mjs';

// The code under test: a copy of dist/ taken when the run starts (see codeSnapshot), loaded by
// this process and by every cold child (lib/history-code.mjs).
let openProfile;
let eventKey;
let levelAt;

const DEPTH = 8;
const ROUND = 20_000;

// ---- the run ----

const started = performance.now();
const MESSAGES = Math.floor(Number(process.argv[2] ?? 10_000_000) / 10) * 10;
if (!(MESSAGES >= 100)) {
  process.stderr.write('usage: npm run bench -- history [MESSAGES] (at least 100)\n');
  process.exit(2);
}
const CHECK_MESSAGES = MESSAGES >= 10_000_000 ? 1_000_000 : Math.floor(MESSAGES / 100) * 10;
const EVENTS = (MESSAGES / 10) * EVENTS_PER_BLOCK;
const CHECK_EVENTS = (CHECK_MESSAGES / 10) * EVENTS_PER_BLOCK;
const KEEP = process.env.PARLEY_BENCH_KEEP === '1';
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-history-'));
const home = path.join(base, 'profile');
const rawDir = path.join(base, 'raw');
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

// dist/ as bench/run.mjs just built it, copied beside the profile with what it needs to load
// (ES modules: a package.json saying so; node_modules by a link).
function codeSnapshot() {
  const code = path.join(base, 'code');
  fs.cpSync(path.join(root, 'dist'), path.join(code, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(code, 'package.json'), JSON.stringify({ type: 'module' }));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(code, 'node_modules'), 'dir');
  let version = 'unknown';
  try {
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    version = dirty > 0 ? `${head} with ${dirty} changed files in src/` : head;
  } catch {
    // not a git checkout: the version stays unknown
  }
  return { dist: path.join(code, 'dist'), version };
}
const log = (line) => process.stderr.write(`[history ${((performance.now() - started) / 1000).toFixed(0)} s] ${line}\n`);

// Both sides: ROUND events at a time in turns, who goes first changing every round (the second
// shares the machine with the compaction of the first one's writes), DEPTH batches in flight.
async function appendBoth(state, from, to) {
  const packr = new Packr({ useRecords: false });
  let seq = from;
  async function rawRound(batches) {
    const t0 = performance.now();
    const inflight = [];
    for (const events of batches) {
      // A chained batch, as the journal writes.
      const batch = state.raw.batch();
      for (const e of events) batch.put(eventKey(++seq), packr.pack(e));
      inflight.push(batch.write());
      if (inflight.length >= DEPTH) await inflight.shift();
    }
    await Promise.all(inflight);
    state.rawMs += performance.now() - t0;
  }
  async function profileRound(batches) {
    const t0 = performance.now();
    const inflight = [];
    for (const events of batches) {
      inflight.push(state.profile.appendMany(events));
      if (inflight.length >= DEPTH) await inflight.shift();
    }
    await Promise.all(inflight);
    state.profileMs += performance.now() - t0;
  }
  let nextLog = performance.now() + 30_000;
  for (let round = from; round < to; round += ROUND) {
    const end = Math.min(to, round + ROUND);
    const rawFirst = state.turn++ % 2 === 0;
    for (const side of rawFirst ? ['raw', 'profile'] : ['profile', 'raw']) {
      // Made before the clock starts, for each side alike: only the appends are timed.
      const batches = batchesOf(round, end);
      gc();
      if (side === 'raw') await rawRound(batches);
      else await profileRound(batches);
    }
    if (performance.now() > nextLog) {
      nextLog = performance.now() + 30_000;
      log(`${fmt(end)} of ${fmt(EVENTS)} events: profile ${fmt(rate(end, state.profileMs))}/s, raw ${fmt(rate(end, state.rawMs))}/s, rss ${mib(process.memoryUsage().rss)} MiB`);
    }
  }
}

async function openBoth(state) {
  const t0 = performance.now();
  state.profile = await openProfile(home);
  state.reopenMs.push(performance.now() - t0);
  state.raw = new ClassicLevel(rawDir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await state.raw.open();
}

async function closeBoth(state) {
  await state.profile.close();
  await state.raw.close();
  state.profile = null;
  state.raw = null;
}

function runChild(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./lib/history-cold.mjs', import.meta.url)), ...args, code.dist], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`cold child failed (${code}): ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

// Three new processes on the closed profile; the median of each figure.
async function measureCold(messages, label) {
  const { first } = chatsOf(messages);
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await runChild([home, String(1 + i), JSON.stringify(first)]));
  const m = {
    openMs: median(runs.map((r) => r.openMs)),
    opens: runs.map((r) => r.openMs),
    sinceStartMs: median(runs.map((r) => r.sinceStartMs)),
    p99: median(runs.map((r) => r.p99)),
    p50: median(runs.map((r) => r.p50)),
    max: Math.max(...runs.map((r) => r.max)),
    rss: median(runs.map((r) => r.rss)),
    rssOpen: median(runs.map((r) => r.rssOpen)),
    rssAnon: median(runs.map((r) => r.rssAnon)),
    rssFile: median(runs.map((r) => r.rssFile)),
    heap: median(runs.map((r) => r.heap)),
    floorP50: median(runs.map((r) => r.floorP50)),
    floorP99: median(runs.map((r) => r.floorP99)),
    short: runs[0].short,
    chats: runs[0].chats,
  };
  if (m.chats !== PEERS) throw new Error(`${label}: the profile holds ${m.chats} chats, not ${PEERS}`);
  log(`${label}: cold opens ${runs.map((r) => Math.round(r.openMs)).join(', ')} ms, page p50 ${m.p50.toFixed(2)} p99 ${m.p99.toFixed(2)} max ${m.max.toFixed(1)} ms (bare classic-level on the same places p50 ${m.floorP50.toFixed(2)} p99 ${m.floorP99.toFixed(2)}), rss ${mib(m.rss)} MiB (${mib(m.rssOpen)} after open; anon ${mib(m.rssAnon)}, file ${mib(m.rssFile)}, JS heap ${mib(m.heap)}), ${m.short} short pages`);
  return m;
}

let state = null;
let code = null;
try {
  code = codeSnapshot();
  ({ openProfile, eventKey, levelAt } = await loadCode(code.dist));
  fs.mkdirSync(home, { recursive: true });
  state = { profile: null, raw: null, rawMs: 0, profileMs: 0, turn: 0, reopenMs: [] };
  await openBoth(state);
  state.reopenMs.length = 0; // the first open is of an empty profile
  log(`${fmt(MESSAGES)} messages, ${fmt(EVENTS)} events; first figures at ${fmt(CHECK_MESSAGES)} messages (${fmt(CHECK_EVENTS)} events) in ${base}; code ${code.version}`);

  await appendBoth(state, 0, CHECK_EVENTS);
  if (state.profile.journal.lastSeq() !== CHECK_EVENTS) throw new Error(`profile holds ${state.profile.journal.lastSeq()} of ${CHECK_EVENTS}`);
  const atCheck = { profileMs: state.profileMs, rawMs: state.rawMs };
  await closeBoth(state);
  const diskCheck = du(home);
  const cold1 = await measureCold(CHECK_MESSAGES, `at ${fmt(CHECK_MESSAGES)} messages`);
  const settle1Ms = await settle(levelAt, path.join(home, 'journal'));
  const settled1 = await measureCold(CHECK_MESSAGES, `at ${fmt(CHECK_MESSAGES)} messages, settled (${fmt(settle1Ms)} ms)`);
  await openBoth(state);

  await appendBoth(state, CHECK_EVENTS, EVENTS);
  if (state.profile.journal.lastSeq() !== EVENTS) throw new Error(`profile holds ${state.profile.journal.lastSeq()} of ${EVENTS}`);
  const chats = state.profile.chats();
  const messagesInView = chats.reduce((n, c) => n + c.messages, 0);
  if (messagesInView !== MESSAGES) throw new Error(`the messages view holds ${messagesInView} of ${MESSAGES}`);
  const unreadTotal = chats.reduce((n, c) => n + state.profile.unread(c.peer), 0);
  await closeBoth(state);
  const appendWallS = (performance.now() - started) / 1000;
  const disk = du(home);
  const rawDisk = du(rawDir);
  const cold = await measureCold(MESSAGES, `at ${fmt(MESSAGES)} messages`);
  const settleMs = await settle(levelAt, path.join(home, 'journal'));
  const settled = await measureCold(MESSAGES, `at ${fmt(MESSAGES)} messages, settled (${fmt(settleMs)} ms)`);

  // KEEP: the profile as it stands before the clear, kept apart for a closer look.
  if (KEEP) fs.cpSync(home, path.join(base, 'before-clear'), { recursive: true });

  // Clear: peer 1's chat, in this process, on the profile opened again (not timed).
  const t0open = performance.now();
  const profile = await openProfile(home);
  const openMainMs = performance.now() - t0open;
  const clearMessages = profile.chat(1)?.messages ?? 0;
  let batchMs = null;
  const t0 = performance.now();
  const unsubscribe = profile.subscribe((event) => {
    if (event.type === 'chat.cleared' && batchMs === null) batchMs = performance.now() - t0;
  });
  const cleared = await profile.clearChat(1);
  const clearMs = performance.now() - t0;
  unsubscribe();
  const after = profile.chat(1);
  const left = (await profile.page(1)).length;
  // The close waits for the cleared chat's records to be compacted (clearing.ts); then the open
  // after a clear (in this process), which stepped over every deleted record before that.
  const t0close = performance.now();
  await profile.close();
  const closeAfterClearMs = performance.now() - t0close;
  if (left !== 0 || (after && after.messages !== 0)) throw new Error(`peer 1 still holds ${left} messages after the clear`);
  const t0reopen = performance.now();
  await (await openProfile(home)).close();
  const openAfterClearMs = performance.now() - t0reopen;
  const diskAfterClear = du(home);

  const result = {
    bench: 'history',
    messages: MESSAGES,
    events: EVENTS,
    open_ms_1m: Math.round(cold1.openMs),
    open_ms: Math.round(cold.openMs),
    rss_mib_1m: mib(cold1.rss),
    rss_mib: mib(cold.rss),
    page_p99_ms: Number(cold.p99.toFixed(2)),
    page_floor_p99_ms: Number(cold.floorP99.toFixed(2)),
    page_p99_settled_ms: Number(settled.p99.toFixed(2)),
    page_floor_p99_settled_ms: Number(settled.floorP99.toFixed(2)),
    append_per_s: rate(EVENTS, state.profileMs),
    raw_append_per_s: rate(EVENTS, state.rawMs),
    append_ratio: Number((state.rawMs / state.profileMs).toFixed(3)),
    clear_ms: Math.round(clearMs),
    open_after_clear_ms: Math.round(openAfterClearMs),
  };
  const wallS = (performance.now() - started) / 1000;
  process.stdout.write(
    `history: ${fmt(MESSAGES)} messages in ${chats.length} chats (${fmt(unreadTotal)} unread), ${fmt(EVENTS)} events; ` +
      `at ${fmt(CHECK_MESSAGES)} messages: cold open ${cold1.opens.map(Math.round).join(', ')} ms, page p99 ${cold1.p99.toFixed(2)} ms, rss ${mib(cold1.rss)} MiB, ` +
      `append ${fmt(rate(CHECK_EVENTS, atCheck.profileMs))}/s vs raw ${fmt(rate(CHECK_EVENTS, atCheck.rawMs))}/s, profile ${mib(diskCheck)} MiB on disk; ` +
      `at ${fmt(MESSAGES)}: cold open ${cold.opens.map(Math.round).join(', ')} ms (${Math.round(cold.sinceStartMs)} ms from process start), ` +
      `page p50 ${cold.p50.toFixed(2)} p99 ${cold.p99.toFixed(2)} max ${cold.max.toFixed(1)} ms (bare classic-level p50 ${cold.floorP50.toFixed(2)} p99 ${cold.floorP99.toFixed(2)}), rss ${mib(cold.rss)} MiB (${mib(cold.rssOpen)} after open; anon ${mib(cold.rssAnon)}, file-backed ${mib(cold.rssFile)}); ` +
      `settled (LevelDB's compactions from the build done: ${fmt(settle1Ms)} ms at ${fmt(CHECK_MESSAGES)}, ${fmt(settleMs)} ms at ${fmt(MESSAGES)}): ` +
      `page p50 ${settled1.p50.toFixed(2)} p99 ${settled1.p99.toFixed(2)} (bare ${settled1.floorP99.toFixed(2)}) at ${fmt(CHECK_MESSAGES)}, ` +
      `p50 ${settled.p50.toFixed(2)} p99 ${settled.p99.toFixed(2)} (bare ${settled.floorP99.toFixed(2)}) at ${fmt(MESSAGES)}, open ${Math.round(settled.openMs)} ms, rss ${mib(settled.rss)} MiB; ` +
      `append ${fmt(result.append_per_s)}/s vs raw ${fmt(result.raw_append_per_s)}/s (ratio ${result.append_ratio}), reopens in this process ${state.reopenMs.map(Math.round).join(', ')} ms; ` +
      `profile ${mib(disk)} MiB on disk (raw store ${mib(rawDisk)} MiB); ` +
      `clear of peer 1 (${fmt(clearMessages)} messages): removed ${fmt(cleared.removed)} events in ${fmt(clearMs)} ms (its batch written at ${batchMs === null ? '?' : fmt(batchMs)} ms; the rest: keys forgotten, checkpoints, a rewrite of the store if it held plain texts), ` +
      `open before it ${Math.round(openMainMs)} ms, close after it ${fmt(closeAfterClearMs)} ms (the cleared records compacted), open after it ${Math.round(openAfterClearMs)} ms, profile ${mib(diskAfterClear)} MiB after; ` +
      `appends done at ${Math.round(appendWallS)} s, wall ${Math.round(wallS)} s; code ${code.version}\n`,
  );
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  try {
    if (state?.profile) await state.profile.close();
    if (state?.raw) await state.raw.close();
  } catch {
    // the directory goes anyway
  }
  // KEEP: the profile (and the code that built it) stay for a closer look.
  if (KEEP) log(`kept ${base} (before-clear: the profile before the clear)`);
  else fs.rmSync(base, { recursive: true, force: true });
}
