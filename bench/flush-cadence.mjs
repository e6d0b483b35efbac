// How often the receiver of a transfer should flush (src/node/receiving.ts, FLUSH_BYTES): 1 MiB
// positional writes into a file, datasync every N MiB, for several N, on the disk of the folder
// given (default: the system's temp folder). Prints MB/s per cadence, best of `rounds`.
//   node bench/flush-cadence.mjs [dir] [MiB per run] [rounds]
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const dir = process.argv[2] ?? os.tmpdir();
const total = Number(process.argv[3] ?? 256) * 1024 * 1024;
const rounds = Number(process.argv[4] ?? 2);
const chunk = Buffer.alloc(1024 * 1024, 0x5a);

async function run(everyMiB) {
  const file = path.join(dir, `parley-flush-${process.pid}.part`);
  const fh = await fs.open(file, 'w+');
  const t0 = process.hrtime.bigint();
  let since = 0;
  for (let at = 0; at < total; at += chunk.length) {
    await fh.write(chunk, 0, chunk.length, at);
    since += chunk.length;
    if (since >= everyMiB * 1024 * 1024) {
      await fh.datasync();
      since = 0;
    }
  }
  await fh.datasync();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await fh.close();
  await fs.rm(file);
  return total / s / 1e6;
}

for (const every of [1, 4, 16, 32, 64]) {
  let best = 0;
  for (let r = 0; r < rounds; r++) best = Math.max(best, await run(every));
  console.log(JSON.stringify({ flush_every_mib: every, mb_per_s: Math.round(best) }));
}
