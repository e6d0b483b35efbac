// What a process writes to its LevelDBs, batch by batch: loaded with `--import` before a bench
// (and into its `parley up` children through PARLEY_BENCH_NODE_ARGS), it counts each shape of
// chained batch (synced or not, the first byte of each key: 'e' an event, 'c' 'i' 's' 'p' 'q'
// the messages view's records, 'm' a meta record such as a view's seq) with its mean size, and
// writes them to /tmp/parley-batch-shapes-PID.txt every 2 s and at exit, most frequent first.
//   PARLEY_BENCH_NODE_ARGS="--import ./bench/lib/batch-shapes.mjs" \
//     node --import ./bench/lib/batch-shapes.mjs bench/messages.mjs 1000
// bench/pattern.mjs replays the shapes the messages bench's clients showed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { ChainedBatch } = await import(require.resolve('classic-level/chained-batch.js'));

const shapes = new Map();
const pending = new WeakMap();
const P = ChainedBatch.prototype;
const put = P._put;
const del = P._del;
const write = P._write;

function note(batch, what, bytes) {
  const b = pending.get(batch) ?? { keys: [], bytes: 0 };
  b.keys.push(what);
  b.bytes += bytes;
  pending.set(batch, b);
}

P._put = function (key, value) {
  note(this, String.fromCharCode(key[0]), key.length + value.length);
  return put.call(this, key, value);
};
P._del = function (key) {
  note(this, 'del ' + String.fromCharCode(key[0]), key.length);
  return del.call(this, key);
};
P._write = function (options) {
  const b = pending.get(this) ?? { keys: [], bytes: 0 };
  const shape = `${options?.sync ? 'synced' : 'unsynced'} | ${b.keys.join(' ')}`;
  const s = shapes.get(shape) ?? { count: 0, bytes: 0 };
  s.count++;
  s.bytes += b.bytes;
  shapes.set(shape, s);
  return write.call(this, options);
};

function dump() {
  const rows = [...shapes].sort((a, b) => b[1].count - a[1].count).map(([shape, s]) => `${s.count}\t${Math.round(s.bytes / s.count)} B\t${shape}`);
  fs.writeFileSync(path.join(os.tmpdir(), `parley-batch-shapes-${process.pid}.txt`), rows.join('\n') + '\n');
}
process.on('exit', dump);
setInterval(dump, 2000).unref();
