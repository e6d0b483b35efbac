// Small helpers the benches share for their figures: rates, medians, sizes, seeded places, and a
// full collection before a timed part (when node runs with --expose-gc, as bench/run.mjs starts it).
import fs from 'node:fs';
import path from 'node:path';

export function gc() {
  if (globalThis.gc) globalThis.gc();
}

// Per second, whole: n things in ms milliseconds.
export function rate(n, ms) {
  return Math.round((n / ms) * 1000);
}

// A small seeded PRNG (mulberry32): the same random places in every run.
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The p50, p99, largest and mean of a list of times.
export function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)];
  return { p50: q(0.5), p99: q(0.99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

// The middle value (the upper one of an even count).
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// MiB to one decimal, as a number (lib/sessions.mjs prints whole MiB as text).
export function mibTenths(bytes) {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

// A whole number with thousands separators, for the human lines.
export function fmt(n) {
  return Math.round(n).toLocaleString('en-US');
}

// The bytes of every file under dir (0 when it is gone).
export function du(dir) {
  let total = 0;
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else total += fs.statSync(p).size;
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return total;
}
