// npm run bench -- transfer [MiB]
// (standalone, after `npm run build`: node bench/transfer.mjs [MiB])
//
// A file of MiB mebibytes (2048 by default) sent over a direct link from one running client to
// another through a Parley server on loopback: the sender in this process, the receiver a
// `parley up` of its own (auto-accept on); the time from the offer journaled to the sender's
// `transfer.completed`. The baseline, in the same run: a bare Node TLS 1.3 socket between two
// processes with the same certificates that reads the same file in the same 1 MiB chunks, hashes
// each with SHA-256 on both ends, writes it at its offset at the other end and flushes at
// Parley's cadence (FLUSH_BYTES, src/node/receiving.ts): the least work a verified, resumable
// transfer must do. The two alternate, best of three each, each alone on the machine. Then one
// more Parley transfer with message round trips from the sender to the receiver one after the
// other while it runs: their p99, and that transfer's rate (mb_per_s_with_messages). Right after
// it, the floor of such a message: one more bare transfer with the messages bench's baseline
// (bench/lib/ping.mjs: a bare TLS ping-pong, a synced LevelDB append on each side) running from
// the sending process to a process of its own meanwhile (floor_msg_p99_during_ms): what a durable
// message costs on this disk while a verified transfer fills it.
//
// The last line is one JSON object:
//   {"bench":"transfer","bytes":…,"mb_per_s":…,"baseline_mb_per_s":…,"ratio":…,"rss_peak_mib":…,
//    "msg_p99_during_ms":…,"mb_per_s_with_messages":…,"floor_msg_p99_during_ms":…}
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { benchClient, DIST, friendEvents, identityOf, makePki, roundTripper, startBenchServer, stats, upProcess } from './lib/pair.mjs';
import { pingSetup } from './lib/ping.mjs';

const MIB = 1024 * 1024;
const CHUNK = MIB;
const TEXT = 'Привет, как дела с файлом?';
const { FLUSH_BYTES: FLUSH } = await import(path.join(DIST, 'src/node/receiving.js'));
// PARLEY_BENCH_ROUNDS=0: only the transfer with messages (a quick look at the messages, no rates).
const ROUNDS = Number(process.env.PARLEY_BENCH_ROUNDS ?? 3);
const here = fileURLToPath(import.meta.url);
const log = (line) => process.stderr.write(`[transfer] ${line}\n`);

// ---- the baseline's receiving process: node bench/transfer.mjs --receive PORT_FILE OUT CERTS
if (process.argv[2] === '--receive') {
  const [, , , portFile, out, certs] = process.argv;
  const files = JSON.parse(certs);
  const { serverTlsOptions } = await import(path.join(DIST, 'src/net/tls.js'));
  const server = tls.createServer(serverTlsOptions(identityOf(files)), (socket) => {
    const fd = fs.openSync(out, 'w');
    // What has arrived and is not yet a whole frame: a list of buffers joined once a frame is
    // whole (joining on every read would copy each MiB about 30 times over).
    let parts = [];
    let have = 0;
    let offset = 0;
    let sinceFlush = 0;
    // Frames: 4 bytes of length, 32 bytes of SHA-256, the data.
    socket.on('data', (data) => {
      parts.push(data);
      have += data.length;
      for (;;) {
        if (have < 36) return;
        if (parts[0].length < 36) parts = [Buffer.concat(parts)];
        const len = parts[0].readUInt32BE(0);
        if (len === 0) {
          fs.fdatasyncSync(fd);
          fs.closeSync(fd);
          socket.end('done');
          server.close();
          return;
        }
        if (have < 36 + len) return;
        const frame = parts.length === 1 ? parts[0] : Buffer.concat(parts);
        const sum = frame.subarray(4, 36);
        const chunk = frame.subarray(36, 36 + len);
        if (!crypto.createHash('sha256').update(chunk).digest().equals(sum)) throw new Error('a chunk failed its check');
        fs.writeSync(fd, chunk, 0, len, offset);
        offset += len;
        sinceFlush += len;
        if (sinceFlush >= FLUSH) {
          fs.fdatasyncSync(fd);
          sinceFlush = 0;
        }
        const rest = frame.subarray(36 + len);
        parts = rest.length > 0 ? [rest] : [];
        have = rest.length;
      }
    });
  });
  server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
} else {
  await main();
}

async function main() {
  const mib = Number(process.argv[2] ?? 2048);
  const bytes = mib * MIB;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-transfer-'));
  const files = await makePki(dir, ['server', 'alice', 'bob']);
  const source = path.join(dir, 'source.bin');
  makeFile(source, bytes);
  log(`${mib} MiB in ${source}`);

  const srv = await startBenchServer(dir, files.server);
  const port = srv.address().port;
  // Bob: a profile made here, then run by `parley up` in a process of its own.
  const bobHome = path.join(dir, 'bob');
  const { id: bId } = await benchClient(bobHome, files.bob, port, { keep: false });
  const a = await benchClient(path.join(dir, 'alice'), files.alice, port);
  const aId = a.state().id;
  const bob = await upProcess(bobHome, [
    ...friendEvents(aId, 'alice', { messages: 1_000_000, files: (ROUNDS + 1) * Math.ceil(bytes / 65_535) + 10 }),
    { type: 'settings.changed', key: 'auto-accept-files', value: true },
  ]);
  await a.profile.append({ type: 'contact.added', peer: bId, name: 'bob', whitelisted: true });
  // PARLEY_BENCH_SPLIT=1: each message round trip during the transfer taken apart, with the
  // time the receiver stamped its message.received (read from its journal once it stopped).
  const marks = process.env.PARLEY_BENCH_SPLIT ? new Map() : null;
  const trip = roundTripper(a, bId, 'during', marks);
  log(`first message (bob's client starting, the link) in ${(await trip(-1, 'hello')).toFixed(0)} ms`);

  const parley = [];
  const baseline = [];
  for (let round = 0; round < ROUNDS; round++) {
    parley.push(await parleyRun(a, bId, source, bytes, round, null, null));
    log(`parley round ${round + 1}: ${(parley[round] / 1e6).toFixed(0)} MB/s; bob's peak RSS so far ${peakMib(bob.pid)} MiB`);
    fs.rmSync(path.join(bobHome, 'downloads'), { recursive: true, force: true });
    baseline.push(await baselineRun(dir, files, source, bytes));
    log(`baseline round ${round + 1}: ${(baseline[round] / 1e6).toFixed(0)} MB/s`);
  }
  const during = [];
  const loop = marks ? monitorEventLoopDelay({ resolution: 1 }) : null;
  loop?.enable();
  const withMessages = await parleyRun(a, bId, source, bytes, ROUNDS, trip, during);
  loop?.disable();
  if (loop) log(`the sender's event loop meanwhile: delay p50 ${(loop.percentile(50) / 1e6).toFixed(1)} p99 ${(loop.percentile(99) / 1e6).toFixed(1)} max ${(loop.max / 1e6).toFixed(1)} ms`);
  log(`parley with messages meanwhile: ${(withMessages / 1e6).toFixed(0)} MB/s; bob's peak RSS so far ${peakMib(bob.pid)} MiB`);
  // The floor, right after: the bare ping-pong warmed up first (a new process's first round trips
  // are V8's compiling), then beside a bare transfer.
  const ping = await pingSetup(dir, files, 'ping');
  for (let i = 0; i < 500; i++) await ping.roundTrip(TEXT);
  const floorDuring = [];
  const floorRate = await baselineRun(dir, files, source, bytes, ping.roundTrip, floorDuring);
  await ping.close();
  const floor = stats(floorDuring);
  log(`the floor: ${floorDuring.length} bare round trips beside a bare transfer at ${(floorRate / 1e6).toFixed(0)} MB/s: p50 ${floor.p50.toFixed(1)} p99 ${floor.p99.toFixed(1)} ms`);
  const bobPeak = peakMib(bob.pid);
  const alicePeak = Math.round(process.resourceUsage().maxRSS / 1024);
  await bob.stop();
  if (marks) await logSplit(bobHome, marks);
  await a.close();
  await srv.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const best = Math.max(...parley);
  const bestBase = Math.max(...baseline);
  const msg = stats(during);
  log(`best of ${ROUNDS}: parley ${(best / 1e6).toFixed(0)} MB/s, baseline ${(bestBase / 1e6).toFixed(0)} MB/s; peak RSS sender ${alicePeak} MiB, receiver ${bobPeak} MiB; ${during.length} messages during: p50 ${msg.p50.toFixed(1)} p99 ${msg.p99.toFixed(1)} ms`);
  if (bob.said().trim()) log(`bob said: ${bob.said().trim().split('\n').slice(-3).join(' | ')}`);
  process.stdout.write(
    JSON.stringify({
      bench: 'transfer',
      bytes,
      mb_per_s: Math.round(best / 1e6),
      baseline_mb_per_s: Math.round(bestBase / 1e6),
      ratio: Number((best / bestBase).toFixed(2)),
      rss_peak_mib: Math.max(bobPeak, alicePeak),
      rss_peak_receiver_mib: bobPeak,
      msg_p99_during_ms: Number(msg.p99.toFixed(1)),
      mb_per_s_with_messages: Math.round(withMessages / 1e6),
      floor_msg_p99_during_ms: Number(floor.p99.toFixed(1)),
    }) + '\n',
  );
}

// Where a round trip went: the sender's synced write; from then until the receiver stamped its
// message.received (the link, the chunks ahead of the message, the receiver's loop); from then
// until the sender stamped its message.delivered (the receiver's synced write, the ack back, the
// sender's loop); from then until it was written (unsynced, after any write of the sender's
// journal under way). The stamps are in whole ms: the steps are ±1 ms.
async function logSplit(home, marks) {
  const { openProfile } = await import(path.join(DIST, 'src/node/profile.js'));
  const profile = await openProfile(home);
  const at = new Map();
  await profile.journal.scan((e) => {
    if (e.type === 'message.received' && marks.has(e.id)) at.set(e.id, e.at);
  });
  await profile.close();
  const steps = { sync: [], toReceiver: [], receiverToDelivered: [], deliveredWritten: [] };
  for (const [id, m] of marks) {
    // 'during--1' is the first message, sent before any transfer (the link's setup).
    if (!at.has(id) || id.endsWith('--1')) continue;
    steps.sync.push(m.synced - m.sent);
    steps.toReceiver.push(at.get(id) - m.synced);
    steps.receiverToDelivered.push(m.stamped - at.get(id));
    steps.deliveredWritten.push(m.back - m.stamped);
  }
  for (const [name, times] of Object.entries(steps)) {
    const s = stats(times);
    log(`split ${name}: p50 ${s.p50.toFixed(1)} p99 ${s.p99.toFixed(1)} max ${s.max.toFixed(1)} ms (${times.length})`);
  }
}

// A file of `bytes` that does not compress: a random MiB, each copy with its offset written in.
function makeFile(file, bytes) {
  const block = crypto.randomBytes(MIB);
  const fd = fs.openSync(file, 'w');
  for (let at = 0; at < bytes; at += MIB) {
    block.writeUInt32BE(at / MIB, 0);
    fs.writeSync(fd, block, 0, Math.min(MIB, bytes - at));
  }
  // On the disk before the first round: its writeback would fall on that round.
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

// The highest resident set a process reached (Linux: VmHWM), in MiB.
function peakMib(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

// One transfer: bytes per second from the offer to the sender's transfer.completed; with `trip`,
// message round trips one after the other meanwhile, their times pushed to `during`.
async function parleyRun(a, peer, source, bytes, round, trip, during) {
  const id = `bench-${round}`;
  let finished = null;
  const done = new Promise((resolve) => (finished = resolve));
  const stop = a.profile.subscribe((event) => {
    if (event.id !== id || event.peer !== peer) return;
    if (event.type === 'transfer.completed') finished(null);
    if (event.type === 'transfer.failed' || event.type === 'transfer.cancelled' || event.type === 'transfer.declined') finished(event.reason ?? event.type);
  });
  const t0 = performance.now();
  await a.profile.appendMany([
    { type: 'quota.spent', peer, direction: 'outbound', kind: 'files', n: Math.ceil(bytes / 65_535), ref: id },
    { type: 'transfer.offered', id, peer, direction: 'out', name: `bench-${round}.bin`, size: bytes, chunkSize: CHUNK, path: source },
  ]);
  let over = false;
  const outcome = done.then((reason) => {
    over = true;
    return reason;
  });
  for (let i = 0; trip && !over; i++) during.push(await trip(`${round}-${i}`, TEXT));
  const reason = await outcome;
  const s = (performance.now() - t0) / 1000;
  stop();
  if (reason) throw new Error(`the transfer ended without completing: ${reason}`);
  return bytes / s;
}

// The baseline: the receiver in a process of its own, the sender here. With `trip`, round trips
// one after the other meanwhile (from this process), their times pushed to `during`.
async function baselineRun(dir, files, source, bytes, trip = null, during = null) {
  const portFile = path.join(dir, `base-port-${Date.now()}`);
  const out = path.join(dir, 'base-out.bin');
  const child = spawn(process.execPath, [here, '--receive', portFile, out, JSON.stringify(files.bob)], { stdio: ['ignore', 'inherit', 'inherit'] });
  while (!fs.existsSync(portFile) || fs.readFileSync(portFile, 'utf8') === '') await new Promise((r) => setTimeout(r, 20));
  const port = Number(fs.readFileSync(portFile, 'utf8'));
  const { clientTlsOptions } = await import(path.join(DIST, 'src/net/tls.js'));
  const socket = tls.connect({ host: '127.0.0.1', port, ...clientTlsOptions(identityOf(files.alice), { expectRole: 'client' }) });
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  const finished = new Promise((resolve) => socket.on('data', resolve));
  const t0 = performance.now();
  let over = false;
  const messages = (async () => {
    while (trip && !over) during.push(await trip(TEXT));
  })();
  const fd = await fs.promises.open(source, 'r');
  for (let at = 0; at < bytes; at += CHUNK) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, bytes - at));
    await fd.read(chunk, 0, chunk.length, at);
    const head = Buffer.alloc(36);
    head.writeUInt32BE(chunk.length, 0);
    crypto.createHash('sha256').update(chunk).digest().copy(head, 4);
    socket.write(head);
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await fd.close();
  socket.write(Buffer.alloc(36));
  await finished;
  const s = (performance.now() - t0) / 1000;
  over = true;
  await messages;
  socket.destroy();
  await new Promise((resolve) => child.on('close', resolve));
  fs.rmSync(out, { force: true });
  return bytes / s;
}
