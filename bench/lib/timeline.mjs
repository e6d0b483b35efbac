// Where a message round trip's slowest 1% goes, on the clock the processes share. Loaded with
// `--import` into every process of a messages bench (through NODE_OPTIONS, which its children
// inherit), it records each LevelDB write (a chained batch or a put: start, end, synced, bytes)
// and each collection, stamped in epoch microseconds, and writes them to
// $PARLEY_TIMELINE_DIR/PID.jsonl at exit. Beside it, bench/lib/fsync-times.c (LD_PRELOAD) stamps
// each fdatasync (and each write of LevelDB's log) of the same processes, and the bench's
// PARLEY_BENCH_TRIPS names the file of its round trips; bench/lib/timeline-split.mjs reads the
// three (docs/BENCHMARKS.md, messages).
//   gcc -shared -fPIC -O2 -o /tmp/fsync-times.so bench/lib/fsync-times.c -ldl
//   PARLEY_TIMELINE_DIR=/tmp/tl PARLEY_BENCH_TRIPS=/tmp/tl/trips.json \
//     LD_PRELOAD=/tmp/fsync-times.so NODE_OPTIONS="--import ./bench/lib/timeline.mjs" \
//     node bench/messages.mjs 10000
//   node bench/lib/timeline-split.mjs /tmp/tl
// Its own rows are garbage too: collections in a run with it are longer than without.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const { ChainedBatch } = await import(require.resolve('classic-level/chained-batch.js'));
const { ClassicLevel } = await import(require.resolve('classic-level'));
const dir = process.env.PARLEY_TIMELINE_DIR ?? '/tmp/tl';
const now = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
// ['b', start, end, synced 0|1, bytes] and ['gc', start, duration, kind], microseconds.
const rows = [];

const bytesOf = new WeakMap();
const P = ChainedBatch.prototype;
const put = P._put;
const write = P._write;
P._put = function (key, value) {
  bytesOf.set(this, (bytesOf.get(this) ?? 0) + key.length + value.length);
  return put.call(this, key, value);
};
P._write = function (options) {
  const start = now();
  const bytes = bytesOf.get(this) ?? 0;
  return write.call(this, options).then((v) => {
    rows.push(['b', start, now(), options?.sync ? 1 : 0, bytes]);
    return v;
  });
};
const dbPut = ClassicLevel.prototype._put;
ClassicLevel.prototype._put = function (key, value, options) {
  const start = now();
  return dbPut.call(this, key, value, options).then((v) => {
    rows.push(['b', start, now(), options?.sync ? 1 : 0, key.length + value.length]);
    return v;
  });
};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) rows.push(['gc', Math.round((performance.timeOrigin + e.startTime) * 1000), Math.round(e.duration * 1000), e.detail?.kind ?? 0]);
}).observe({ entryTypes: ['gc'] });

process.on('exit', () => {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${process.pid}.jsonl`), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
});
