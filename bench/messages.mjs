// npm run bench -- messages [N]
// (standalone, after `npm run build`: node bench/messages.mjs [N])
//
// Message round trips between two running Parley clients through a Parley server on loopback:
// the time from a message journaled by the sender (`message.sent`, synced) to its delivered
// receipt journaled by the sender, after the receiver journaled the message (synced) and
// acknowledged it. The sender runs in this process (with the server); the receiver is a `parley
// up` of its own, as a person runs it. N round trips (10,000 by default) one after the other, over
// a direct link and over the server's relay, in turns of 500 with the baseline's, so that
// whatever else the machine does falls on all three alike, after 1,000 of each that are not
// counted (a warm-up). The baseline: a bare Node TLS 1.3 ping-pong of the same sizes, with the
// same certificates, between this process and one of its own, in which each side appends one
// synced record to a LevelDB before it answers (the least work a durable receipt needs: two
// synced writes per round trip, where Parley makes three: sent, received, delivered).
//
// The last line is one JSON object:
//   {"bench":"messages","n":…,"direct_p50_ms":…,"direct_p99_ms":…,"relay_p99_ms":…,"baseline_p99_ms":…}
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchClient, friendEvents, makePki, roundTripper, startBenchServer, stats, upProcess } from './lib/pair.mjs';
import { pingSetup } from './lib/ping.mjs';

const N = Number(process.argv[2] ?? 10_000);
// PARLEY_BENCH_TRIPS=FILE: each counted round trip as [kind, its start in epoch µs, ms], for
// bench/lib/timeline-split.mjs.
const TRIPS = process.env.PARLEY_BENCH_TRIPS;
const TEXT = 'Привет! How are you doing today? '.repeat(3); // about 110 bytes of UTF-8

const log = (line) => process.stderr.write(`[messages] ${line}\n`);
// The run's folder and certificates (main).
let dir;
let files;

await main();

// ---- Parley: two clients, one route; the receiver a `parley up` of its own
async function parleySetup(route, srv) {
  const port = srv.address().port;
  const listen = route === 'direct';
  const names = route === 'relay' ? ['alice-r', 'bob-r'] : ['alice', 'bob'];
  const bobHome = path.join(dir, `${route}-bob`);
  const { id: bId } = await benchClient(bobHome, files[names[1]], port, { keep: false });
  const a = await benchClient(path.join(dir, `${route}-alice`), files[names[0]], port, { listen });
  const aId = a.state().id;
  // Each grants the other what the run needs (the bench grants itself its quota).
  const grants = { messages: N + 1100 };
  await a.profile.appendMany(friendEvents(bId, 'bob', grants));
  const bob = await upProcess(bobHome, friendEvents(aId, 'alice', grants), listen ? {} : { PARLEY_NO_LISTEN: '1' });
  const trip = roundTripper(a, bId, route);
  const roundTrip = (i) => trip(i, TEXT);
  // The first one waits for bob's start, presence, the introduction and the link (the relay's
  // 5 s window).
  const first = await roundTrip(-1);
  log(`${route}: the first message (bob's start, presence, introduction, link) in ${first.toFixed(0)} ms; route ${a.state().routes.get(bId)}`);
  return {
    roundTrip,
    close: async () => {
      await bob.stop();
      await a.close();
    },
  };
}

async function main() {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-messages-'));
  // The relay's pair is online at the same time as the direct one: holders of their own.
  files = await makePki(dir, ['server', 'alice', 'bob', 'alice-r', 'bob-r']);
  const started = performance.now();
  const srv = await startBenchServer(dir, files.server);
  const ping = await pingSetup(dir, files, 'base');
  const baseline = { roundTrip: () => ping.roundTrip(TEXT), close: ping.close };
  const runs = { baseline, direct: await parleySetup('direct', srv), relay: await parleySetup('relay', srv) };
  // The three run in turns of BLOCK round trips (baseline, direct, relay, baseline, ...), so that
  // whatever else the machine does falls on all three alike: only their ratios compare.
  const BLOCK = Math.min(500, N);
  // Each first runs WARMUP round trips that are not counted, in the same turns: what is measured is
  // a chat that has been going on for a while (the code compiled by V8, the LevelDB files past their
  // first flushes), not the first seconds of a process; the first message's time is logged above.
  const WARMUP = Math.min(1000, N);
  for (let done = 0; done < WARMUP; done += BLOCK) {
    for (const run of Object.values(runs)) {
      for (let i = done; i < Math.min(WARMUP, done + BLOCK); i++) await run.roundTrip(`warm-${i}`);
    }
  }
  const times = { baseline: [], direct: [], relay: [] };
  const trips = [];
  for (let done = 0; done < N; done += BLOCK) {
    for (const [name, run] of Object.entries(runs)) {
      for (let i = done; i < Math.min(N, done + BLOCK); i++) {
        const start = performance.timeOrigin + performance.now();
        times[name].push(await run.roundTrip(i));
        if (TRIPS) trips.push([name, Math.round(start * 1000), times[name].at(-1)]);
      }
    }
  }
  if (TRIPS) fs.writeFileSync(TRIPS, JSON.stringify({ pid: process.pid, trips }));
  for (const run of Object.values(runs)) await run.close();
  await srv.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const base1 = stats(times.baseline);
  const direct = stats(times.direct);
  const relay = stats(times.relay);
  for (const [name, s] of [['baseline', base1], ['direct', direct], ['relay', relay]]) {
    log(`${name}: ${N} round trips in turns of ${BLOCK}: p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(2)} max ${s.max.toFixed(1)} ms`);
  }
  log(`direct p99 is ${(direct.p99 / base1.p99).toFixed(2)} x the baseline's; relay p99 ${(relay.p99 / base1.p99).toFixed(2)} x; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(
    JSON.stringify({
      bench: 'messages',
      n: N,
      direct_p50_ms: Number(direct.p50.toFixed(2)),
      direct_p99_ms: Number(direct.p99.toFixed(2)),
      relay_p50_ms: Number(relay.p50.toFixed(2)),
      relay_p99_ms: Number(relay.p99.toFixed(2)),
      baseline_p50_ms: Number(base1.p50.toFixed(2)),
      baseline_p99_ms: Number(base1.p99.toFixed(2)),
      direct_ratio: Number((direct.p99 / base1.p99).toFixed(2)),
    }) + '\n',
  );
}
