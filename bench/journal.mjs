// npm run bench -- journal [EVENTS]
// Appends EVENTS (default 1,000,000) events to a journal in batches and replays them through
// every projection; in the same run does the same raw work with classic-level and msgpackr
// alone (batch put; iterator with nextv plus decode), so the ratios compare like with like on a
// shared, noisy machine. Then measures a cold start: a new process opening the profile (with
// the checkpoint its close wrote) until every projection is ready; the median of three.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { Packr, Unpackr } from 'msgpackr';
import { gc, rate } from './lib/figures.mjs';
import { openJournal } from '../dist/src/events/journal.js';
import { eventKey } from '../dist/src/events/codec.js';
import { openProfile } from '../dist/src/node/profile.js';

const N = process.argv[2] === '--cold' ? 0 : Number(process.argv[2] ?? 1_000_000);
const BATCH = 1000;
const PEERS = 50;
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-journal-'));

// A day of a busy client: chat both ways with receipts and quota spends, and file transfers
// whose chunk progress makes up a third of the journal. Deterministic: the same N, the same
// events.
function makeEvent(i) {
  const peer = 1 + (i % PEERS);
  const at = 1_790_000_000_000 + i * 7;
  const m = 'm' + Math.floor(i / 8);
  switch (i % 12) {
    case 0: return { type: 'message.sent', id: m, peer, text: 'Привет! How are you doing today? ' + i, packets: 1, at };
    case 1: return { type: 'quota.spent', peer, direction: 'outbound', kind: 'messages', n: 1, ref: m, at };
    case 2: return { type: 'message.delivered', id: m, peer, receivedAt: at + 3, at };
    case 3: return { type: 'message.received', id: 'r' + m, peer, text: 'Fine, thanks, sending the file now ' + i, sentAt: at - 5, at };
    case 4: return { type: 'quota.spent', peer, direction: 'inbound', kind: 'messages', n: 1, ref: 'r' + m, at };
    case 5: return { type: 'message.read', id: 'r' + m, peer, by: 'me', at };
    case 6: return { type: 'message.read', id: m, peer, by: 'peer', at };
    case 7: {
      // Incoming files of 128 MiB: one offer, then 500 events of 4 chunks of 64 KiB each.
      const t = Math.floor(i / 12);
      const id = 'f' + Math.floor(t / 500);
      if (t % 500 === 0) return { type: 'transfer.offered', id, peer, direction: 'in', name: 'video.mkv', size: 2048 * 65_536, chunkSize: 65_536, at };
      const k = (t % 500) - 1;
      // A transfer is known by (peer, direction, id): the peer of its offer's event.
      const offeredBy = 1 + (((t - (t % 500)) * 12 + 7) % PEERS);
      return { type: 'transfer.chunks-stored', id, peer: offeredBy, direction: 'in', chunks: [k * 4, k * 4 + 1, k * 4 + 2, k * 4 + 3], at };
    }
    default: {
      // Outgoing files of 128 MiB acked a chunk at a time.
      const t = Math.floor(i / 12) * 4 + (i % 12) - 8;
      const id = 'g' + Math.floor(t / 2000);
      if (t % 2000 === 0) return { type: 'transfer.offered', id, peer, direction: 'out', name: 'photos.zip', size: 2048 * 65_536, chunkSize: 65_536, at };
      const t0 = t - (t % 2000);
      const offeredBy = 1 + ((Math.floor(t0 / 4) * 12 + 8 + (t0 % 4)) % PEERS);
      return { type: 'transfer.chunks-acked', id, peer: offeredBy, direction: 'out', chunks: [t % 2000], at };
    }
  }
}

function batchOf(start) {
  const events = [];
  for (let i = start; i < Math.min(N, start + BATCH); i++) events.push(makeEvent(i));
  return events;
}

// Appends to the raw store and to the journal in turns, ROUND events at a time, timing each
// side alone: both then run under the same load of this shared machine. The order of the two
// changes every round, since the second one shares the machine with LevelDB's compaction of the
// first one's writes (with raw always first, the journal measured 0.65 of raw, 0.75 alternating). Both keep DEPTH batches
// in flight, as a client does whose links append at once: LevelDB writes on its own thread, so
// a writer that waits for each batch before making the next leaves both threads idle half the
// time (serial: 2.2 s for 200,000 events raw; 8 in flight: 0.66 s, measured here). The journal
// syncs every batch that holds a durable event (types.ts) and the raw side never syncs: group
// commit is what lets the journal pay for that.
async function appendBoth(rawDir, home) {
  const ROUND = 20_000;
  const DEPTH = 8;
  const packr = new Packr({ useRecords: false });
  const db = new ClassicLevel(rawDir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  fs.mkdirSync(home, { recursive: true });
  const journal = await openJournal(path.join(home, 'journal'), home);
  let rawMs = 0;
  let journalMs = 0;
  let seq = 0;
  async function rawRound(round, end) {
    const t0 = performance.now();
    const inflight = [];
    for (let start = round; start < end; start += BATCH) {
      // A chained batch, as the journal writes: the faster of classic-level's two batch forms.
      const batch = db.batch();
      for (const e of batchOf(start)) batch.put(eventKey(++seq), packr.pack(e));
      inflight.push(batch.write());
      if (inflight.length >= DEPTH) await inflight.shift();
    }
    await Promise.all(inflight);
    rawMs += performance.now() - t0;
  }
  async function journalRound(round, end) {
    const t0 = performance.now();
    const inflight = [];
    for (let start = round; start < end; start += BATCH) {
      inflight.push(journal.appendMany(batchOf(start)));
      if (inflight.length >= DEPTH) await inflight.shift();
    }
    await Promise.all(inflight);
    journalMs += performance.now() - t0;
  }
  // Who goes first changes every round: the side that goes second shares the machine with the
  // background compaction of the other's writes.
  for (let round = 0, turn = 0; round < N; round += ROUND, turn++) {
    const end = Math.min(N, round + ROUND);
    gc();
    if (turn % 2 === 0) await rawRound(round, end);
    else await journalRound(round, end);
    gc();
    if (turn % 2 === 0) await journalRound(round, end);
    else await rawRound(round, end);
  }
  await db.close();
  await journal.close();
  return { rawMs, journalMs };
}

async function rawReplay(dir) {
  const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number' });
  const db = new ClassicLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const t0 = performance.now();
  let count = 0;
  const it = db.iterator();
  for (;;) {
    const entries = await it.nextv(1000);
    if (entries.length === 0) break;
    for (const [, value] of entries) {
      if (unpackr.unpack(value).type) count++;
    }
  }
  await it.close();
  const ms = performance.now() - t0;
  await db.close();
  if (count !== N) throw new Error(`raw replay read ${count} of ${N}`);
  return ms;
}

async function journalAppend(home) {
  fs.mkdirSync(home, { recursive: true });
  const journal = await openJournal(path.join(home, 'journal'), home);
  for (let start = 0; start < N; start += BATCH) await journal.appendMany(batchOf(start));
  await journal.close();
}

async function timedOpen(home) {
  const t0 = performance.now();
  const profile = await openProfile(home);
  const ms = performance.now() - t0;
  if (profile.journal.lastSeq() !== N) throw new Error(`profile holds ${profile.journal.lastSeq()} of ${N}`);
  return { profile, ms };
}

if (process.argv[2] === '--cold') {
  // A cold start is a new process: Parley starting on a profile that holds the events.
  const t0 = performance.now();
  const profile = await openProfile(process.argv[3]);
  const ms = performance.now() - t0;
  await profile.close();
  process.stdout.write(JSON.stringify({ ms }) + '\n');
  process.exit(0);
}

if (process.env.PARLEY_BENCH_KEEP) {
  // For profiling a cold start by hand: build the profile once and keep it.
  await journalAppend(process.env.PARLEY_BENCH_KEEP);
  const p = await openProfile(process.env.PARLEY_BENCH_KEEP);
  await p.close();
  process.exit(0);
}

try {
  const rawDir = path.join(base, 'raw');
  const home = path.join(base, 'profile');
  const { rawMs: rawAppendMs, journalMs: appendMs } = await appendBoth(rawDir, home);
  // Replay: raw, then the profile from empty through every projection, twice in turns; the
  // faster of each pair counts. The append above went through the journal alone (no stored
  // views set), so the replay also builds the stored messages view: the open finds it missing
  // and derives it from the whole journal, and rebuild() drops and derives it again.
  gc();
  const rawReplays = [await rawReplay(rawDir)];
  gc();
  const first = await timedOpen(home); // no checkpoint yet: a whole replay
  const replays = [first.ms];
  gc();
  rawReplays.push(await rawReplay(rawDir));
  gc();
  let t0 = performance.now();
  await first.profile.rebuild();
  replays.push(performance.now() - t0);
  const rawReplayMs = Math.min(...rawReplays);
  const replayMs = Math.min(...replays);
  t0 = performance.now();
  await first.profile.checkpoint();
  const checkpointMs = performance.now() - t0;
  // Chats live in the stored messages view now (profile.chats(), summaries kept in memory), read
  // while the profile is still open.
  const messages = first.profile.chats().reduce((n, c) => n + c.messages, 0);
  await first.profile.close();
  // Cold start: the median of three new processes opening the profile.
  const colds = [];
  for (let i = 0; i < 3; i++) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--cold', home], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`cold start failed: ${child.stderr}`);
    colds.push(JSON.parse(child.stdout.trim().split('\n').pop()).ms);
  }
  colds.sort((a, b) => a - b);
  const coldMs = colds[1];

  const result = {
    bench: 'journal',
    events: N,
    append_per_s: rate(N, appendMs),
    replay_per_s: rate(N, replayMs),
    raw_append_per_s: rate(N, rawAppendMs),
    raw_replay_per_s: rate(N, rawReplayMs),
    append_ratio: Number((rawAppendMs / appendMs).toFixed(3)),
    replay_ratio: Number((rawReplayMs / replayMs).toFixed(3)),
    cold_start_ms: Math.round(coldMs),
  };
  process.stdout.write(`journal: ${N} events, ${messages} messages in the stored messages view (the replay feeds it too: rebuilt in the same pass), checkpoint write ${Math.round(checkpointMs)} ms, cold starts ${colds.map(Math.round).join(', ')} ms\n`);
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  fs.rmSync(base, { recursive: true, force: true });
}
