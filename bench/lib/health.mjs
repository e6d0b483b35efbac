// What a bench child process tells of itself (bench/lib/sessions.mjs serves it over IPC): its
// memory after forced collections, its CPU, and over a window (from one `health` call to the
// next) its event loop's worst delay and its garbage collections; and a CPU profile of one phase.
import fs from 'node:fs';
import inspector from 'node:inspector';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export async function measureRss(extra = {}) {
  const cpu = process.cpuUsage();
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
  return { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, cpuMs: (cpu.user + cpu.system) / 1000, ...extra };
}

// What held this process back over a window (from one `health` call to the next): its CPU, its
// event loop's worst delay, and its garbage collections. A late presence round or introduction is
// a stalled process somewhere; this says which, and whether it was collecting.
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const gcs = { count: 0, ms: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcs.count += 1;
    gcs.ms += e.duration;
    gcs.maxMs = Math.max(gcs.maxMs, e.duration);
  }
}).observe({ entryTypes: ['gc'] });
let window0 = { at: performance.now(), cpu: process.cpuUsage() };

export function health() {
  const cpu = process.cpuUsage(window0.cpu);
  const ms = performance.now() - window0.at;
  const out = {
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / ms) * 100),
    delayMaxMs: Math.round(delay.max / 1e6),
    delayP99Ms: Math.round(delay.percentile(99) / 1e6),
    gcCount: gcs.count,
    gcMs: Math.round(gcs.ms),
    gcMaxMs: Math.round(gcs.maxMs),
  };
  delay.reset();
  Object.assign(gcs, { count: 0, ms: 0, maxMs: 0 });
  window0 = { at: performance.now(), cpu: process.cpuUsage() };
  return out;
}

// "cpu 34%, loop delay max 120 ms (p99 15), gc 12 (40 ms, max 18)"
export function healthLine(h) {
  return `cpu ${h.cpuPercent}%, loop delay max ${h.delayMaxMs} ms (p99 ${h.delayP99Ms}), gc ${h.gcCount} (${h.gcMs} ms, max ${h.gcMaxMs})`;
}

// A CPU profile of one phase (PARLEY_BENCH_PHASE_PROF=DIR, as main asks): started and stopped
// through the inspector, so that the profile holds the phase, not the whole process.
let profiler = null;
export async function profile({ start, file }) {
  if (start) {
    profiler = new inspector.Session();
    profiler.connect();
    await post(profiler, 'Profiler.enable');
    await post(profiler, 'Profiler.start');
    return {};
  }
  if (!profiler) return {};
  const { profile: p } = await post(profiler, 'Profiler.stop');
  fs.writeFileSync(file, JSON.stringify(p));
  profiler.disconnect();
  profiler = null;
  return {};
}

function post(session, method) {
  return new Promise((resolve, reject) => session.post(method, (err, r) => (err ? reject(err) : resolve(r))));
}

export function cpuNow() {
  const cpu = process.cpuUsage();
  return { cpuMs: (cpu.user + cpu.system) / 1000 };
}
