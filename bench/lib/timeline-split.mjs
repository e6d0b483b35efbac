// node bench/lib/timeline-split.mjs DIR
// Reads what bench/lib/timeline.mjs, bench/lib/fsync-times.c and the messages bench's
// PARLEY_BENCH_TRIPS left in DIR (trips.json, PID.jsonl, PID.sync) and splits each synced LevelDB
// write of the measured round trips into its fdatasync and the time around it: `before` (from the
// write asked for to the system call: the worker thread's wake-up, LevelDB's queue, the log's
// write), of which `wake` is the part until the log's write began (the worker thread's wake-up
// and LevelDB's queue), and `after` (from the call's return to the process hearing of it: the
// memtable, the main thread's wake-up). Each process is told by the kind of round trip its
// writes fall in: the bench's own (the sender of every kind), the baseline's answering process,
// the receivers.
import fs from 'node:fs';
import path from 'node:path';
import { stats } from './figures.mjs';

const dir = process.argv[2] ?? '/tmp/tl';
const { pid: benchPid, trips } = JSON.parse(fs.readFileSync(path.join(dir, 'trips.json'), 'utf8'));
const windows = {};
for (const [kind, start, ms] of trips) (windows[kind] ??= []).push([start, start + ms * 1000]);
for (const w of Object.values(windows)) w.sort((a, b) => a[0] - b[0]);

// The first of `rows` (sorted by their `field`) whose `field` is at or after `t`: its index.
function firstAtOrAfter(rows, field, t) {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid][field] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The kind of round trip running at `t` (µs), or null.
function kindAt(t) {
  for (const [kind, w] of Object.entries(windows)) {
    const i = firstAtOrAfter(w, 1, t);
    if (i < w.length && w[i][0] <= t) return kind;
  }
  return null;
}

// A process's stamped system calls of one kind (1 fdatasync, 3 the log's fflush), by start.
function callsOf(pid, kind) {
  const file = path.join(dir, `${pid}.sync`);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(' ').map(Number))
    .filter((row) => row[2] === kind)
    .sort((a, b) => a[0] - b[0]);
}


const fmt = (x) => x.toFixed(2);
const pids = fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => Number(f.slice(0, -6)));
for (const pid of pids) {
  const rows = fs.readFileSync(path.join(dir, `${pid}.jsonl`), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const syncs = callsOf(pid, 1);
  const flushes = callsOf(pid, 3);
  const byKind = {};
  for (const r of rows) {
    if (r[0] !== 'b' || r[3] !== 1) continue;
    const kind = kindAt(r[1]);
    if (kind) (byKind[kind] ??= []).push(r);
  }
  for (const [kind, writes] of Object.entries(byKind)) {
    // A child writes in one kind only; the bench's process is the sender of all three.
    if (pid !== benchPid && writes.length < trips.length / 6) continue;
    const parts = { write: [], wake: [], before: [], fdatasync: [], after: [] };
    let slow = 0;
    for (const [, start, end] of writes) {
      // The first fdatasync that starts at or after the write.
      const s = syncs[firstAtOrAfter(syncs, 0, start)];
      parts.write.push((end - start) / 1000);
      if (end - start > 1600) slow++;
      if (!s || s[1] > end) continue;
      parts.before.push((s[0] - start) / 1000);
      // The log's write, when stamped: the worker thread took the write up then.
      const f = flushes[firstAtOrAfter(flushes, 0, start)];
      if (f && f[1] <= s[0]) parts.wake.push((f[0] - start) / 1000);
      parts.fdatasync.push((s[1] - s[0]) / 1000);
      parts.after.push((end - s[1]) / 1000);
    }
    const side = pid === benchPid ? 'sender' : 'answering side';
    const line = Object.entries(parts)
      .filter(([, xs]) => xs.length > 0)
      .map(([name, xs]) => {
        const s = stats(xs);
        return `${name} p50 ${fmt(s.p50)} p99 ${fmt(s.p99)}`;
      })
      .join(' | ');
    const bytes = Math.round(writes.reduce((a, r) => a + r[4], 0) / writes.length);
    process.stdout.write(`${kind} ${side} (pid ${pid}): ${writes.length} synced writes of ${bytes} B, ${((slow / writes.length) * 100).toFixed(2)}% over 1.6 ms | ${line}\n`);
  }
}
