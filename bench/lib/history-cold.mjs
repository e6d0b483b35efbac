// A cold child of the history bench (bench/history.mjs): a new process, Parley starting on the
// profile, then 1,000 pages of 50 messages at random places of random chats (seeded: the same
// places every run), timing each, then the same places read with bare classic-level (floorOf).
// Prints one JSON line: the open time, the pages' p50, p99 and max, the RSS and where it is,
// and the floor's p50 and p99.
//
//   node bench/lib/history-cold.mjs HOME SEED FIRSTS DIST
//
// FIRSTS: each chat's first seq (JSON), where a page's place is picked from; DIST: the copy of
// dist/ the run measures (codeSnapshot in bench/history.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { prng, stats } from './figures.mjs';
import { barePage, loadCode } from './history-code.mjs';

const PAGE = 50;
const READS = 1000;

// The floor under a page: the same places read again, after Parley's pages, with bare
// classic-level on the profile's LevelDB (opened as Parley opens it, levelAt; barePage). What
// LevelDB and Node-API cost for a page on this machine, whatever Parley does around them; it runs
// second, on files the pages just read, so it is if anything below the true floor.
async function floorOf(dir, places) {
  const db = code.levelAt(dir);
  await db.open();
  const times = new Array(places.length);
  for (let k = 0; k < places.length; k++) {
    const [peer, before] = places[k];
    const t = performance.now();
    await barePage(db, code, peer, before, PAGE);
    times[k] = performance.now() - t;
  }
  await db.close();
  return stats(times);
}

// A new process: Parley starting on the profile. Then 1,000 pages at random places.
const home = process.argv[2];
const seed = Number(process.argv[3]);
const first = JSON.parse(process.argv[4]);
const code = await loadCode(process.argv[5]);
const { openProfile } = code;
const t0 = performance.now();
const profile = await openProfile(home);
const openMs = performance.now() - t0;
const sinceStartMs = performance.now(); // from the process's own start (timeOrigin)
const rssOpen = process.memoryUsage().rss;
const random = prng(seed);
const peers = profile.chats().map((c) => c.peer);
const times = new Array(READS);
const places = new Array(READS);
let short = 0;
let read = 0;
for (let k = 0; k < READS; k++) {
  const peer = peers[Math.floor(random() * peers.length)];
  const lo = first[peer] ?? 1;
  const hi = profile.chat(peer).lastSeq + 1;
  const before = lo + Math.floor(random() * (hi - lo + 1));
  places[k] = [peer, before];
  const t = performance.now();
  const page = await profile.page(peer, { limit: PAGE, before });
  times[k] = performance.now() - t;
  read += page.length;
  if (page.length < PAGE) short++;
  for (let j = 0; j < page.length; j++) {
    const msg = page[j];
    if (msg.seq >= before || (j > 0 && msg.seq <= page[j - 1].seq) || msg.peer !== peer || !msg.text) {
      throw new Error(`page of peer ${peer} before ${before} is wrong at ${j}: ${JSON.stringify(msg)}`);
    }
  }
}
const rss = process.memoryUsage().rss;
// Where the RSS is: LevelDB maps table files (mmap), whose pages count as RssFile.
const status = fs.readFileSync('/proc/self/status', 'utf8');
const kib = (name) => Number((status.match(new RegExp(name + ':\\s+(\\d+)')) ?? [0, 0])[1]) * 1024;
const rssAnon = kib('RssAnon');
const rssFile = kib('RssFile');
const heap = process.memoryUsage().heapUsed;
const { p50, p99, max } = stats(times);
await profile.close();
const floor = await floorOf(path.join(home, 'journal'), places);
process.stdout.write(JSON.stringify({ openMs, sinceStartMs, p99, p50, max, rss, rssOpen, rssAnon, rssFile, heap, short, read, chats: peers.length, floorP50: floor.p50, floorP99: floor.p99 }) + '\n');
process.exit(0);
