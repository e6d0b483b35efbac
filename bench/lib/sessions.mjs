// What the benchmarks of many sessions share (bench/server.mjs, bench/cluster.mjs): a PKI made
// as `parley cert` makes it, with client certificates made from a template for EC keys
// (certificates.mjs); child processes started with their file limit raised and driven over IPC,
// each telling of itself (health.mjs); the Parley server as `parley server` runs it; and the load
// role, which holds the client ends of the sessions.
//
// The per-process file limit (hard 20,000 here) bounds what one process holds: one descriptor per
// session. Node cannot raise its own limit, so children are started through `sh -c 'ulimit -n'`
// when the soft limit is below the hard one. Client keys are EC P-256, each with a certificate
// from the bench's CA made from a template (RSA key generation for 20,000 clients would take
// minutes); the server's key is RSA 2048, as `parley cert csr` makes it.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { cpuNow, health, measureRss, profile } from './health.mjs';
import { certificateMaker } from './certificates.mjs';

export const DIST = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
export const PASSWORD = 'bench password';
const CONCURRENCY = 48; // handshakes in flight per load process
const HEARTBEAT_MS = 10_000;
const HEARTBEAT_TICK_MS = 50;

// The CA, the server's certificate and key (files in `dir`), and what the load processes need to
// make client certificates: the CA's key and a template signed as `parley cert sign --role client`.
export async function makePki(dir) {
  const { createCa } = await import(path.join(DIST, 'cert/ca.js'));
  const { createCsr } = await import(path.join(DIST, 'cert/csr.js'));
  const { signCsr } = await import(path.join(DIST, 'cert/sign.js'));
  const ca = await createCa(PASSWORD, { name: 'Bench CA', iterations: 1000 });
  const caFile = path.join(dir, 'rootCA.crt');
  fs.writeFileSync(caFile, ca.certPem);
  const serverCsr = await createCsr('bench-server', PASSWORD, { iterations: 1000 });
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  fs.writeFileSync(certFile, signCsr({ certPem: ca.certPem, key: ca.key }, serverCsr.csrPem, { role: 'server', hosts: ['127.0.0.1'] }).certPem);
  fs.writeFileSync(keyFile, serverCsr.keyPem);
  const templateCsr = await createCsr('bench-client', PASSWORD, { iterations: 1000 });
  const template = signCsr({ certPem: ca.certPem, key: ca.key }, templateCsr.csrPem, { role: 'client' }).certPem;
  const caKeyPem = ca.key.export({ type: 'pkcs8', format: 'pem' });
  return { caCertPem: ca.certPem, caKeyPem, template, files: { caFile, certFile, keyFile, password: PASSWORD } };
}

export function fdLimits() {
  const read = (flag) => Number(execFileSync('/bin/sh', ['-c', `ulimit ${flag}`]).toString().trim()) || 1024;
  return { soft: read('-n'), hard: read('-Hn') };
}

// A port free on 127.0.0.1 now (for a process that must know its port before it listens: a
// cluster process names its public address, a NATS node its routes).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A child running `script --role ROLE`, with its file limit raised to `want` when the soft limit
// is lower. call(msg) sends a command and resolves with the child's answer.
export function startChild(script, role, want, limits) {
  // PARLEY_BENCH_PROF=DIR: the hosts (not the loads) write CPU profiles there (node --cpu-prof).
  const prof = process.env.PARLEY_BENCH_PROF && role !== 'load' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PARLEY_BENCH_PROF}`] : [];
  const nodeArgs = ['--expose-gc', ...prof, script, '--role', role];
  const stdio = ['ignore', 'inherit', 'inherit', 'ipc'];
  const proc =
    limits.soft < want
      ? spawn('/bin/sh', ['-c', `ulimit -n ${want} && exec "$0" "$@"`, process.execPath, ...nodeArgs], { stdio })
      : spawn(process.execPath, nodeArgs, { stdio });
  let next = 0;
  const waiting = new Map();
  proc.on('message', (m) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error) w.reject(new Error(`${role}: ${m.error}`));
    else w.resolve(m);
  });
  proc.on('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`${role} exited (${code ?? signal})`));
    waiting.clear();
  });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  return {
    call: (msg) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        waiting.set(id, { resolve, reject });
        proc.send({ ...msg, id });
      }),
    exited,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
    // Asks the child to stop (it exits by itself, so a CPU profile gets written); killed if it
    // has not gone within `ms`.
    stop: async (ms = 5000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const id = ++next;
      waiting.set(id, { resolve: () => undefined, reject: () => undefined });
      proc.send({ cmd: 'stop', id });
      await Promise.race([exited, new Promise((r) => setTimeout(r, ms))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

// The child's side: answers each command with its handler's result; exits after `stop`, or
// when the parent goes.
export function serveRole(handlers) {
  process.on('message', async (m) => {
    try {
      // `id` is the call's: an answer must not carry a field of that name.
      const answer = await handlers[m.cmd](m);
      process.send({ ...answer, id: m.id });
      if (m.cmd === 'stop') setTimeout(() => process.exit(0), 50);
    } catch (err) {
      process.send({ id: m.id, error: err?.stack ?? String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// The Parley server, started as `parley server` starts it (its options at their defaults but
// those `start` is given: `port`, and in a cluster `cluster` and the introduction rate).
export async function serverRole() {
  const { loadIdentity } = await import(path.join(DIST, 'src/net/tls.js'));
  const { startServer } = await import(path.join(DIST, 'server/server.js'));
  let server = null;
  // A server in trouble may write one line per session (tens of thousands, all alike but for an
  // id): the first few of each shape are shown, the rest counted and the counts shown at stop.
  const shapes = new Map();
  const log = (line) => {
    const shape = line.replace(/\d+/g, 'N');
    const n = (shapes.get(shape) ?? 0) + 1;
    shapes.set(shape, n);
    if (n <= 3) process.stderr.write(line + '\n');
    if (n === 3) process.stderr.write('  (more lines like this one are counted, not shown)\n');
  };
  return {
    start: async ({ files, dataDir, options = {} }) => {
      const identity = loadIdentity(files);
      server = await startServer({ identity, dataDir, host: '127.0.0.1', port: 0, admin: false, log, ...options });
      return { port: server.address().port };
    },
    rss: async () => measureRss({ held: server.stats().sessions }),
    cpu: async () => cpuNow(),
    health: async () => health(),
    profile,
    stats: async () => server.stats(),
    stop: async () => {
      await server?.close();
      for (const [shape, n] of shapes) if (n > 3) process.stderr.write(`${n} lines like: ${shape}\n`);
      return {};
    },
  };
}

// The client ends of the sessions: mutual-TLS connections that log in and heartbeat, as many as
// `init` made credentials for, opened CONCURRENCY at a time. Also plays the presence target and
// watchers (presenceRounds) and the askers of introductions (introduceRounds).
export async function loadRole() {
  const { createFrameDecoder, encodeFrame } = await import(path.join(DIST, 'src/net/frame.js'));
  const { encodeControl, decodeControl } = await import(path.join(DIST, 'src/net/control.js'));
  const controlFrame = (msg) => encodeFrame({ contentType: 1, flags: 0, source: 0, destination: 0, contentId: 0, payload: encodeControl(msg) });
  const LOGIN = controlFrame({ type: 'login', version: 1, lan: ['10.1.2.3'], listenPort: 40000, agent: 'parley-bench' });
  const HEARTBEAT = controlFrame({ type: 'heartbeat' });
  const BYE = controlFrame({ type: 'bye', code: 'QUIT', reason: 'bench' });

  let creds = [];
  let count = 0;
  const conns = new Set();
  const presence = { port: 0, target: null, watchers: [], expect: null, arrivals: [], all: Promise.resolve([]), done: () => undefined };
  // Heartbeats: one timer for every session; each sends when it has sent nothing for 10 s. The
  // timer runs often, so that each run sends few: every 500 ms, as it first did, sent a twentieth
  // of the sessions at once (950 of 19,000), and the server answered them in one burst of 100 ms
  // and more, twice a second, which no real clients do (each heartbeats on its own clock): the
  // cluster bench's presence rounds met those bursts (docs/BENCHMARKS.md, cluster runs 5-8).
  setInterval(() => {
    const now = Date.now();
    for (const c of conns) {
      if (c.id && now - c.lastTx >= HEARTBEAT_MS) {
        c.lastTx = now;
        c.socket.write(HEARTBEAT);
      }
    }
  }, HEARTBEAT_TICK_MS).unref();

  // Opens one connection; resolves once it is usable: the baseline's byte, or login-ok.
  function open(cred, port, mode, beforeLogin) {
    return new Promise((resolve, reject) => {
      // The load generator does not check the server's certificate: it is not what is measured.
      const socket = tls.connect({ host: '127.0.0.1', port, secureContext: cred.ctx, minVersion: 'TLSv1.3', rejectUnauthorized: false });
      // As Parley's client (src/net/handshake.ts): small frames go at once.
      socket.setNoDelay(true);
      const c = { socket, id: 0, lastTx: Date.now(), onMessage: null, onClose: null };
      let done = false;
      const timer = setTimeout(() => fail(new Error('no answer within 60 s')), 60_000);
      const fail = (err) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const ok = () => {
        done = true;
        clearTimeout(timer);
        conns.add(c);
        resolve(c);
      };
      socket.on('error', fail);
      socket.on('close', () => {
        conns.delete(c);
        fail(new Error('closed'));
        c.onClose?.();
      });
      if (mode === 'tls') {
        socket.once('data', ok);
        return;
      }
      const decoder = createFrameDecoder();
      socket.once('secureConnect', () => {
        beforeLogin?.();
        socket.write(LOGIN);
      });
      socket.on('data', (chunk) => {
        const at = clock();
        for (const f of decoder.push(chunk)) {
          const msg = decodeControl(f.payload);
          if (msg.type === 'login-ok') {
            c.id = msg.id;
            ok();
          } else if (msg.type === 'login-refused') {
            fail(new Error(`${msg.code}: ${msg.reason}`));
          }
          c.onMessage?.(msg, at);
        }
      });
    });
  }

  // { ok, failed, firstError, times }: `times`, when each connection became usable (clock()).
  async function openMany(list, port, mode) {
    let ok = 0;
    let failed = 0;
    let firstError = null;
    let next = 0;
    const times = [];
    const lane = async () => {
      while (next < list.length) {
        const cred = list[next++];
        try {
          await open(cred, port, mode);
          ok += 1;
          times.push(clock());
        } catch (err) {
          failed += 1;
          firstError ??= err.message;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    return { ok, failed, firstError, times };
  }

  async function closeAll() {
    const closing = [...conns].map((c) => new Promise((r) => {
      c.onClose = r;
      c.socket.destroy();
    }));
    await Promise.all(closing);
  }

  // The sessions that play no other part (not the presence target nor a watcher).
  const plain = () => [...conns].filter((c) => c.id && c !== presence.target && !presence.watchers.includes(c));

  return {
    // `n` credentials for the sessions, `extra` more after them (warm-up, the presence target).
    init: async ({ caKeyPem, template, count: n, extra }) => {
      count = n;
      const sign = certificateMaker(template, caKeyPem);
      creds = [];
      for (let i = 0; i < n + extra; i++) {
        const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
        // A secure context per client, made now: making one costs about 1 ms of OpenSSL set-up,
        // client-side work that would otherwise be counted against the server's login rate.
        const key = privateKey.export({ type: 'pkcs8', format: 'pem' });
        const cert = sign(publicKey.export({ type: 'spki', format: 'der' }));
        creds.push({ ctx: tls.createSecureContext({ key, cert, minVersion: 'TLSv1.3' }) });
      }
      return {};
    },
    warm: async ({ port, mode, n }) => {
      const r = await openMany(creds.slice(count, count + n), port, mode);
      await closeAll();
      return r;
    },
    health: async () => health(),
    profile,
    // `times`: only when asked (tens of thousands of numbers over IPC).
    connect: async ({ port, mode, n, times = false }) => {
      const cpu = process.cpuUsage();
      const r = await openMany(creds.slice(0, n), port, mode);
      const used = process.cpuUsage(cpu);
      return { ...r, times: times ? r.times : undefined, cpuMs: (used.user + used.system) / 1000 };
    },
    close: async () => {
      await closeAll();
      presence.target = null;
      presence.watchers = [];
      return {};
    },
    // Presence (driven by main, see presenceRounds): the load holding the target (the last
    // credential) makes it come and go; the others' sessions watch it. Times are absolute
    // (timeOrigin + now), so the processes' stamps compare.
    targetOpen: async ({ port }) => {
      presence.port = port;
      presence.target = await open(creds[creds.length - 1], port, 'parley');
      return { targetId: presence.target.id };
    },
    watch: async ({ targetId, n }) => {
      presence.watchers = plain().slice(0, n);
      for (const w of presence.watchers) {
        w.onMessage = (msg) => {
          if (msg.type !== 'presence' || msg.id !== targetId || presence.expect === null || msg.online !== presence.expect) return;
          presence.arrivals.push(clock());
          if (presence.arrivals.length === presence.watchers.length) presence.done();
        };
      }
      // Each watcher gets the target's state (online) at once.
      arm(true);
      for (const w of presence.watchers) w.socket.write(controlFrame({ type: 'presence-watch', ids: [targetId] }));
      await presence.all;
      return { watchers: presence.watchers.length };
    },
    arm: async ({ online }) => {
      arm(online);
      return {};
    },
    act: async ({ online }) => {
      if (!online) {
        const t0 = clock();
        presence.target.socket.write(BYE);
        await new Promise((r) => (presence.target.socket.destroyed ? r() : presence.target.socket.once('close', r)));
        return { t0 };
      }
      // Timed from the login frame, once TLS is up: the handshake is not presence.
      let t0 = 0;
      presence.target = await open(creds[creds.length - 1], presence.port, 'parley', () => (t0 = clock()));
      return { t0 };
    },
    collect: async () => ({ arrivals: await presence.all }),
    // The ids of `n` sessions held here (the targets of introductions).
    ids: async ({ n }) => ({ ids: plain().slice(0, n).map((c) => c.id) }),
    // Introductions (see introduceRounds): for each target in turn, one of the sessions here asks
    // for it (introduce-request) and waits for its answer; one at a time, so what is timed is the
    // way through the servers, not a queue. Latency: from the request written to the asker's
    // `introduce` read.
    introduce: async ({ targets }) => {
      const askers = plain();
      if (askers.length === 0) throw new Error('no session here to ask for introductions');
      const latencies = [];
      let refused = 0;
      let firstRefusal = null;
      for (let i = 0; i < targets.length; i++) {
        const asker = askers[i % askers.length];
        const target = targets[i];
        const answer = new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no answer to an introduce-request for ${target} within 10 s`)), 10_000);
          asker.onMessage = (msg, at) => {
            if ((msg.type === 'introduce' && msg.peer === target) || (msg.type === 'introduce-refused' && msg.target === target)) {
              clearTimeout(timer);
              asker.onMessage = null;
              resolve({ msg, at });
            }
          };
        });
        const t0 = clock();
        asker.lastTx = Date.now();
        asker.socket.write(controlFrame({ type: 'introduce-request', target }));
        const { msg, at } = await answer;
        if (msg.type === 'introduce') latencies.push(at - t0);
        else {
          refused += 1;
          firstRefusal ??= `${msg.code}: ${msg.reason}`;
        }
      }
      return { latencies, refused, firstRefusal };
    },
  };

  function arm(online) {
    presence.expect = online;
    presence.arrivals = [];
    presence.all = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`presence ${online}: ${presence.watchers.length - presence.arrivals.length} watchers still waiting after 20 s`)), 20_000);
      presence.done = () => {
        clearTimeout(timer);
        presence.expect = null;
        resolve(presence.arrivals);
      };
      if (presence.watchers.length === 0) presence.done();
    });
    presence.all.catch(() => undefined);
  }
}

// A presence change reaching watchers spread over load processes, as watchers are spread over
// machines: `rounds` times the target says bye (offline), then logs in (online). `target`:
// { load, port } (the load that holds it and the server it signs in to); `watchers`: [{ load, n }].
// Latency: from the target's frame leaving to each watcher's presence frame arriving.
export async function presenceRounds(target, watchers, rounds) {
  const { targetId } = await target.load.call({ cmd: 'targetOpen', port: target.port });
  const watching = await Promise.all(watchers.map((w) => w.load.call({ cmd: 'watch', targetId, n: w.n })));
  const loads = [...new Set([target.load, ...watchers.map((w) => w.load)])];
  const latencies = [];
  const ons = [];
  const offs = [];
  for (let r = 0; r < rounds; r++) {
    for (const online of [false, true]) {
      await Promise.all(loads.map((l) => l.call({ cmd: 'arm', online })));
      const { t0 } = await target.load.call({ cmd: 'act', online });
      const got = await Promise.all(loads.map((l) => l.call({ cmd: 'collect' })));
      const these = got.flatMap((g) => g.arrivals.map((at) => at - t0));
      latencies.push(...these);
      // The first arrival is the way through the servers; the spread after it, the fan-out.
      if (these.length > 0) (online ? ons : offs).push({ first: Math.min(...these), last: Math.max(...these) });
    }
  }
  return { watchers: watching.reduce((n, w) => n + w.watchers, 0), rounds, ...quantiles(latencies), online: spans(ons), offline: spans(offs) };
}

// Of each round's first and last arrival, the median and the worst: "first 12/30, last 40/95".
function spans(list) {
  const first = quantiles(list.map((x) => x.first));
  const last = quantiles(list.map((x) => x.last));
  return `first ${first.p50.toFixed(1)}/${first.max.toFixed(1)} ms, last ${last.p50.toFixed(1)}/${last.max.toFixed(1)} ms`;
}

// { samples, p50, p99, max } of a list of latencies (ms).
export function quantiles(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return { samples: sorted.length, p50: q(0.5), p99: q(0.99), max: sorted[sorted.length - 1] ?? NaN };
}

// Milliseconds since the epoch, sub-millisecond: comparable between the processes of a run.
export function clock() {
  return performance.timeOrigin + performance.now();
}

// Figures as the benches print them: MiB whole, milliseconds to one or two decimals.
export function mib(bytes) {
  return (bytes / 1048576).toFixed(0);
}

export function round1(x) {
  return Math.round(x * 10) / 10;
}

export function round2(x) {
  return Math.round(x * 100) / 100;
}
