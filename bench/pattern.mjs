// npm run bench -- pattern [N]
// (standalone, after `npm run build`: node bench/pattern.mjs [N])
//
// What Parley's writes alone cost a message round trip, with none of Parley's code: the messages
// bench's baseline (a ping-pong between this process and one of its own, each side appending a
// synced record to a LevelDB) made to write what a Parley client writes per message instead of
// one 110-byte record. The shapes were measured on the messages bench's clients
// (bench/lib/batch-shapes.mjs; docs/BENCHMARKS.md, messages):
//
//   sender:   synced batch of 7 records, 432 bytes  (message.sent and its view keys), then the
//             message on the link; beside it a batch of 6 records, 358 bytes, not synced
//             (quota.spent and message.transmitted); after the answer a batch of 5 records,
//             255 bytes, not synced (message.delivered)
//   receiver: synced batch of 8 records, 556 bytes  (message.received, quota.spent, view keys),
//             then the answer
//
// Each batch goes to LevelDB as the journal writes one (src/events/level.ts: levelAt's options,
// writeBatch's chained batch). Plain TCP on loopback: TLS would be the same work in every
// variant. The variants run in turns of 500 round trips after 1,000 that are not counted, as in
// the messages bench; only their ratios compare. The last line is one JSON object: each variant's p50 and p99
// in ms, parley_writes_p99_ratio (Parley's writes against the baseline's) and
// control_p99_ratio (the baseline against itself).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stats } from './lib/figures.mjs';
import { DIST } from './lib/pair.mjs';
import { answering } from './lib/ping.mjs';

const here = fileURLToPath(import.meta.url);
const { levelAt, writeBatch } = await import(path.join(DIST, 'src/events/level.js'));

// Each variant: the receiver's synced batch, the sender's synced batch (before the message, or
// after the answer as the baseline does), and its two unsynced ones ([bytes, records]; 0: none).
// `baseline_again` is the baseline once more: how far apart two identical variants come out in
// one run (the disk's slow moments fall on some turns and not others) is the run's noise.
const BASELINE = { receiver: [110, 1], sender: [110, 1], senderAfter: true, beside: [0, 0], after: [0, 0] };
const VARIANTS = {
  baseline: BASELINE,
  baseline_again: BASELINE,
  parley_writes: { receiver: [556, 8], sender: [432, 7], beside: [358, 6], after: [255, 5] },
  parley_synced_only: { receiver: [556, 8], sender: [432, 7], beside: [0, 0], after: [0, 0] },
  parley_bytes_one_record: { receiver: [556, 1], sender: [432, 1], beside: [0, 0], after: [0, 0] },
  baseline_and_unsynced: { receiver: [110, 1], sender: [110, 1], beside: [358, 6], after: [255, 5] },
};

// `records` puts of `bytes` in all, under keys spread as a journal's are: one range per record
// (an event, its view keys), each growing with the round trip's number.
function write(db, n, [bytes, records], sync) {
  const each = Math.max(1, Math.floor(bytes / records));
  const batch = writeBatch(db);
  for (let r = 0; r < records; r++) {
    const key = Buffer.alloc(12);
    key.writeUInt32BE(r, 0);
    key.writeBigUInt64BE(BigInt(n), 4);
    batch.put(key, Buffer.alloc(each, n & 0xff));
  }
  return batch.write(sync);
}

if (process.argv[1] === here && process.argv[2] === 'answer') await answer(process.argv[3], process.argv[4], JSON.parse(process.argv[5]));
else if (process.argv[1] === here) await main(Number(process.argv[2] ?? 10_000));

// The answering side: each message's batch written, synced, then a short answer.
async function answer(portFile, dbDir, shape) {
  const db = levelAt(dbDir);
  await db.open();
  let n = 1;
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('data', async () => {
      await write(db, n++, shape, true);
      s.write('ack');
    });
    s.on('close', () => server.close(() => db.close()));
  });
  server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
}

async function setup(dir, name, v) {
  const db = levelAt(path.join(dir, `${name}-a`));
  await db.open();
  const portFile = path.join(dir, `${name}-port`);
  const { port, closed } = await answering(here, ['answer', portFile, path.join(dir, `${name}-b`), JSON.stringify(v.receiver)], portFile);
  const c = net.connect({ host: '127.0.0.1', port });
  await new Promise((r) => c.once('connect', r));
  c.setNoDelay(true);
  let answered = null;
  c.on('data', () => answered && answered());
  const message = Buffer.alloc(110, 1);
  let n = 1;
  const roundTrip = async () => {
    const t0 = performance.now();
    if (!v.senderAfter) await write(db, n, v.sender, true);
    const answer = new Promise((r) => (answered = r));
    c.write(message);
    const beside = v.beside[0] > 0 ? write(db, 1e9 + n, v.beside, false) : null;
    await answer;
    if (beside) await beside;
    if (v.after[0] > 0) await write(db, 2e9 + n, v.after, false);
    if (v.senderAfter) await write(db, n, v.sender, true);
    n++;
    return performance.now() - t0;
  };
  return {
    roundTrip,
    close: async () => {
      c.destroy();
      await closed;
      await db.close();
    },
  };
}

async function main(N) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-pattern-'));
  const runs = {};
  for (const [name, v] of Object.entries(VARIANTS)) runs[name] = await setup(dir, name, v);
  const BLOCK = Math.min(500, N);
  const WARMUP = Math.min(1000, N);
  for (const run of Object.values(runs)) for (let i = 0; i < WARMUP; i++) await run.roundTrip();
  const times = Object.fromEntries(Object.keys(runs).map((name) => [name, []]));
  for (let done = 0; done < N; done += BLOCK) {
    for (const [name, run] of Object.entries(runs)) for (let i = done; i < Math.min(N, done + BLOCK); i++) times[name].push(await run.roundTrip());
  }
  for (const run of Object.values(runs)) await run.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const out = { bench: 'pattern', n: N };
  for (const [name, list] of Object.entries(times)) {
    const s = stats(list);
    process.stderr.write(`[pattern] ${name}: p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(2)} ms\n`);
    out[`${name}_p50_ms`] = Number(s.p50.toFixed(2));
    out[`${name}_p99_ms`] = Number(s.p99.toFixed(2));
  }
  out.parley_writes_p99_ratio = Number((out.parley_writes_p99_ms / out.baseline_p99_ms).toFixed(2));
  out.control_p99_ratio = Number((out.baseline_again_p99_ms / out.baseline_p99_ms).toFixed(2));
  process.stdout.write(JSON.stringify(out) + '\n');
}
