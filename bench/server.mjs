// npm run bench -- server [--sessions N] [--rounds R]
// (standalone, after `npm run build`: node --expose-gc bench/server.mjs)
//
// How many sessions one rendezvous server process holds, how fast clients log in, what a session
// costs in memory and how fast a presence change reaches 1,000 watchers; in the same run, the bare
// Node baseline: plain mutual TLS 1.3 handshakes per second and memory per idle connection.
//
// Processes (this file plays every role, chosen by --role):
//   main      makes the PKI, starts the others, times the phases, prints the figures
//   load x2   hold the client ends: mutual-TLS sessions that log in and heartbeat
//   baseline  a bare tls.Server with the server's certificate: accepts, writes one byte, holds
//   server    the Parley server (dist/server/server.js), as `parley server` runs it
// The server and the baseline run one after the other, each alone in its process, and each
// reports its own RSS after a forced GC; per-connection memory is the RSS growth from an idle
// (warmed-up) process to one holding every connection, divided by the connections.
//
// The per-process file limit (hard 20,000 here) bounds what one server holds: one descriptor per
// session. Node cannot raise its own limit, so children are started through `sh -c 'ulimit -n'`
// when the soft limit is below the hard one. Client keys are EC P-256, each with a certificate
// from the bench's CA made from a template (RSA key generation for 20,000 clients would take
// minutes); the server's key is RSA 2048, as `parley cert csr` makes it. Both phases use the same
// clients, concurrency and machine.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const DIST = path.join(path.dirname(SELF), '..', 'dist');
const PASSWORD = 'bench password';
const CONCURRENCY = 48; // handshakes in flight per load process
const LOADS = 2;
const WARM = 300; // connections opened and closed before the idle RSS is taken
const WATCHERS = 1000;
const HEARTBEAT_MS = 10_000;

const argv = process.argv.slice(2);
function arg(name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
}

const role = arg('--role', 'main');
if (role === 'main') await main();
else await child(role);

// ---------------------------------------------------------------- main

async function main() {
  const rounds = Number(arg('--rounds', 10));
  const limits = fdLimits();
  // What one process may hold, less room for the listener, the journal, stdio and IPC.
  const perProcess = Math.max(limits.soft, Math.min(limits.hard, 20_000));
  const sessions = Math.min(Number(arg('--sessions', perProcess - 400)), perProcess - 400);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-server-'));
  const children = [];
  const started = performance.now();
  try {
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
    const files = { caFile, certFile, keyFile, password: PASSWORD };

    const want = Math.min(limits.hard, 20_000);
    const shares = Array.from({ length: LOADS }, (_, i) => Math.floor(sessions / LOADS) + (i < sessions % LOADS ? 1 : 0));
    const loads = shares.map(() => start('load', want, limits));
    children.push(...loads);
    const t0 = performance.now();
    // Load 0 also holds the warm-up clients and the presence target.
    await Promise.all(loads.map((l, i) => l.call({ cmd: 'init', caCertPem: ca.certPem, caKeyPem, template, count: shares[i], extra: i === 0 ? WARM + 1 : 0 })));
    const certMs = performance.now() - t0;
    log(`bench server: ${sessions} sessions from ${LOADS} load processes; file limit soft ${limits.soft}, hard ${limits.hard}; ${os.cpus().length} CPUs; node ${process.version}`);
    log(`clients: ${sessions + WARM + 1} EC P-256 keys and certificates made in ${(certMs / 1000).toFixed(1)} s; server key RSA 2048`);

    // Phase 1: the bare Node baseline.
    const base = await phase('baseline', 'tls', files, dir, loads, shares, want, limits);
    log(`baseline, bare Node mutual TLS 1.3 (tls.createServer, requestCert, one byte written, held idle):`);
    log(`  ${base.held} connections in ${(base.ms / 1000).toFixed(1)} s = ${base.perSecond.toFixed(0)} handshakes/s (CPU ms per handshake: listener ${base.hostCpuMs.toFixed(2)}, clients ${base.loadCpuMs.toFixed(2)}); RSS ${mib(base.rss0)} -> ${mib(base.rss1)} MiB = ${base.perConnKiB.toFixed(1)} KiB per connection`);

    // Phase 2: the Parley server.
    const srv = await phase('server', 'parley', files, dir, loads, shares, want, limits, async (host, port) => {
      const presence = await presenceRounds(loads, shares, port, rounds);
      const stats = await host.call({ cmd: 'stats' });
      return { presence, stats };
    });
    const ratioLogin = srv.perSecond / base.perSecond;
    const ratioRss = srv.perConnKiB / base.perConnKiB;
    log(`parley server (server/server.ts: certificate check, login, registration journaled, heartbeats):`);
    log(`  held ${srv.held} sessions; logins in ${(srv.ms / 1000).toFixed(1)} s = ${srv.perSecond.toFixed(0)} logins/s (${ratioLogin.toFixed(2)} of the baseline; CPU ms per login: server ${srv.hostCpuMs.toFixed(2)}, clients ${srv.loadCpuMs.toFixed(2)})`);
    log(`  RSS ${mib(srv.rss0)} -> ${mib(srv.rss1)} MiB = ${srv.perConnKiB.toFixed(1)} KiB per session (${ratioRss.toFixed(2)} of the baseline)`);
    const p = srv.extra.presence;
    log(`  presence to ${p.watchers} watchers, ${p.rounds} rounds of offline then online (${p.samples} deliveries): p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(1)} ms`);
    log(`  total run ${((performance.now() - started) / 1000).toFixed(0)} s`);
    console.log(
      JSON.stringify({
        bench: 'server',
        held: srv.held,
        login_per_s: Math.round(srv.perSecond),
        baseline_handshake_per_s: Math.round(base.perSecond),
        login_ratio: round2(ratioLogin),
        rss_per_session_kib: round1(srv.perConnKiB),
        baseline_rss_per_conn_kib: round1(base.perConnKiB),
        rss_ratio: round2(ratioRss),
        presence_p99_ms: round1(p.p99),
      }),
    );
  } finally {
    for (const c of children) c.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// A presence change reaching WATCHERS sessions, spread over the load processes as watchers are
// spread over machines: `rounds` times the target says bye (offline), then logs in (online).
// Latency: from the target's frame leaving to each watcher's presence frame arriving.
async function presenceRounds(loads, shares, port, rounds) {
  const { targetId } = await loads[0].call({ cmd: 'targetOpen', port });
  const per = loads.map((_, i) => Math.floor(WATCHERS / loads.length) + (i < WATCHERS % loads.length ? 1 : 0));
  await Promise.all(loads.map((l, i) => l.call({ cmd: 'watch', targetId, n: Math.min(per[i], shares[i] - 1) })));
  const latencies = [];
  for (let r = 0; r < rounds; r++) {
    for (const online of [false, true]) {
      await Promise.all(loads.map((l) => l.call({ cmd: 'arm', online })));
      const { t0 } = await loads[0].call({ cmd: 'act', online });
      const got = await Promise.all(loads.map((l) => l.call({ cmd: 'collect' })));
      for (const g of got) for (const at of g.arrivals) latencies.push(at - t0);
    }
  }
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { watchers: per.reduce((a, b) => a + b, 0), rounds, samples: latencies.length, p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1] };
}

// One phase: start the host, warm it up, take its idle RSS, open every connection (timed), hold
// them while heartbeats go on, take its RSS again, run `during`, close everything.
async function phase(hostRole, mode, files, dir, loads, shares, want, limits, during) {
  const host = start(hostRole, want, limits);
  try {
    const { port } = await host.call({ cmd: 'start', files, dataDir: path.join(dir, 'data-' + hostRole) });
    await loads[0].call({ cmd: 'warm', port, mode, n: WARM });
    const idle = await host.call({ cmd: 'rss' });
    const t = performance.now();
    const results = await Promise.all(loads.map((l, i) => l.call({ cmd: 'connect', port, mode, n: shares[i] })));
    const ms = performance.now() - t;
    const busy = await host.call({ cmd: 'cpu' });
    const opened = results.reduce((n, r) => n + r.ok, 0);
    const hostCpuMs = (busy.cpuMs - idle.cpuMs) / opened;
    const loadCpuMs = results.reduce((n, r) => n + r.cpuMs, 0) / opened;
    for (const r of results) if (r.failed > 0) log(`  (${r.failed} connections failed: ${r.firstError})`);
    // Hold for a moment with heartbeats going, so what is measured is a steady state.
    await new Promise((r) => setTimeout(r, 3000));
    const full = await host.call({ cmd: 'rss' });
    const held = full.held;
    const extra = during ? await during(host, port) : null;
    await Promise.all(loads.map((l) => l.call({ cmd: 'close' })));
    return { held, ms, perSecond: opened / (ms / 1000), rss0: idle.rss, rss1: full.rss, perConnKiB: (full.rss - idle.rss) / 1024 / held, hostCpuMs, loadCpuMs, extra };
  } finally {
    // The host exits by itself once stopped (so a CPU profile gets written); killed if it hangs.
    await host.call({ cmd: 'stop' }).catch(() => undefined);
    await Promise.race([host.exited, new Promise((r) => setTimeout(r, 5000))]);
    host.kill();
  }
}

function fdLimits() {
  const read = (flag) => Number(execFileSync('/bin/sh', ['-c', `ulimit ${flag}`]).toString().trim()) || 1024;
  return { soft: read('-n'), hard: read('-Hn') };
}

// A child playing `role`, with its file limit raised to `want` when the soft limit is lower.
function start(childRole, want, limits) {
  // PARLEY_BENCH_PROF=DIR: the server and baseline write CPU profiles there (node --cpu-prof).
  const prof = process.env.PARLEY_BENCH_PROF && childRole !== 'load' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PARLEY_BENCH_PROF}`] : [];
  const nodeArgs = ['--expose-gc', ...prof, SELF, '--role', childRole];
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
    if (m.error) w.reject(new Error(`${childRole}: ${m.error}`));
    else w.resolve(m);
  });
  proc.on('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`${childRole} exited (${code ?? signal})`));
    waiting.clear();
  });
  return {
    call: (msg) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        waiting.set(id, { resolve, reject });
        proc.send({ ...msg, id });
      }),
    exited: new Promise((resolve) => proc.on('exit', resolve)),
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

// ---------------------------------------------------------------- children

async function child(childRole) {
  const handlers = childRole === 'load' ? await loadRole() : childRole === 'server' ? await serverRole() : await baselineRole();
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

async function measureRss(extra = {}) {
  const cpu = process.cpuUsage();
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
  return { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, cpuMs: (cpu.user + cpu.system) / 1000, ...extra };
}

function cpuNow() {
  const cpu = process.cpuUsage();
  return { cpuMs: (cpu.user + cpu.system) / 1000 };
}

// The Parley server, started as `parley server` starts it (its options at their defaults but
// the session cap, which is above what a process here can hold anyway).
async function serverRole() {
  const { loadIdentity } = await import(path.join(DIST, 'src/net/tls.js'));
  const { startServer } = await import(path.join(DIST, 'server/server.js'));
  let server = null;
  return {
    start: async ({ files, dataDir }) => {
      const identity = loadIdentity(files);
      server = await startServer({ identity, dataDir, host: '127.0.0.1', port: 0, admin: false, log: (l) => process.stderr.write(l + '\n') });
      return { port: server.address().port };
    },
    rss: async () => measureRss({ held: server.stats().sessions }),
    cpu: async () => cpuNow(),
    stats: async () => server.stats(),
    stop: async () => {
      await server?.close();
      return {};
    },
  };
}

// Bare Node: the same certificate, key and CA; OpenSSL checks the client's chain.
async function baselineRole() {
  const { loadIdentity, serverTlsOptions } = await import(path.join(DIST, 'src/net/tls.js'));
  let server = null;
  const held = new Set();
  return {
    start: async ({ files }) => {
      server = tls.createServer(serverTlsOptions(loadIdentity(files)));
      server.on('tlsClientError', () => undefined);
      server.on('secureConnection', (socket) => {
        held.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => held.delete(socket));
        socket.write('k');
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      return { port: server.address().port };
    },
    rss: async () => measureRss({ held: held.size }),
    cpu: async () => cpuNow(),
    stop: async () => {
      for (const s of held) s.destroy();
      server?.close();
      return {};
    },
  };
}

async function loadRole() {
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
  // Heartbeats: one timer for every session; each sends when it has sent nothing for 10 s.
  setInterval(() => {
    const now = Date.now();
    for (const c of conns) {
      if (c.id && now - c.lastTx >= HEARTBEAT_MS) {
        c.lastTx = now;
        c.socket.write(HEARTBEAT);
      }
    }
  }, 500).unref();

  // Opens one connection; resolves once it is usable: the baseline's byte, or login-ok.
  function open(cred, port, mode, beforeLogin) {
    return new Promise((resolve, reject) => {
      // The load generator does not check the server's certificate: it is not what is measured.
      const socket = tls.connect({ host: '127.0.0.1', port, secureContext: cred.ctx, minVersion: 'TLSv1.3', rejectUnauthorized: false });
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
        const at = performance.now();
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

  async function openMany(list, port, mode) {
    let ok = 0;
    let failed = 0;
    let firstError = null;
    let next = 0;
    const lane = async () => {
      while (next < list.length) {
        const cred = list[next++];
        try {
          await open(cred, port, mode);
          ok += 1;
        } catch (err) {
          failed += 1;
          firstError ??= err.message;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    return { ok, failed, firstError };
  }

  async function closeAll() {
    const closing = [...conns].map((c) => new Promise((r) => {
      c.onClose = r;
      c.socket.destroy();
    }));
    await Promise.all(closing);
  }

  return {
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
    connect: async ({ port, mode, n }) => {
      const cpu = process.cpuUsage();
      const r = await openMany(creds.slice(0, n), port, mode);
      const used = process.cpuUsage(cpu);
      return { ...r, cpuMs: (used.user + used.system) / 1000 };
    },
    close: async () => {
      await closeAll();
      return {};
    },
    // Presence (driven by main, see presenceRounds): load 0 holds the target (the last
    // credential), which comes and goes; every load holds some of the watchers. Times are
    // absolute (timeOrigin + now), so the processes' stamps compare.
    targetOpen: async ({ port }) => {
      presence.port = port;
      presence.target = await open(creds[creds.length - 1], port, 'parley');
      return { targetId: presence.target.id };
    },
    watch: async ({ targetId, n }) => {
      presence.watchers = [...conns].filter((c) => c !== presence.target && c.id).slice(0, n);
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
      return {};
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

// Certificates for EC keys from one template made by `parley cert sign --role client`: the
// template's to-be-signed part with a new serial and the new key, signed by the CA.
function certificateMaker(templatePem, caKeyPem) {
  const der = Buffer.from(templatePem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const [tbs, alg] = children(der, tlv(der, 0));
  const parts = children(tbs, tlv(tbs, 0)); // version, serial, signature alg, issuer, validity, subject, key, extensions
  const caKey = crypto.createPrivateKey(caKeyPem);
  return (spkiDer) => {
    const serial = crypto.randomBytes(16);
    serial[0] = (serial[0] & 0x7f) | 0x40;
    const body = encode(0x30, Buffer.concat([parts[0], encode(0x02, serial), parts[2], parts[3], parts[4], parts[5], spkiDer, ...parts.slice(7)]));
    const signature = crypto.sign('sha256', body, caKey);
    const cert = encode(0x30, Buffer.concat([body, alg, encode(0x03, Buffer.concat([Buffer.from([0]), signature]))]));
    return `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  };
}

function tlv(buf, off) {
  let len = buf[off + 1];
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
    head += n;
  }
  return { start: off, content: off + head, end: off + head + len };
}

function children(buf, t) {
  const out = [];
  for (let o = t.content; o < t.end; ) {
    const c = tlv(buf, o);
    out.push(buf.subarray(c.start, c.end));
    o = c.end;
  }
  return out;
}

function encode(tag, content) {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

function clock() {
  return performance.timeOrigin + performance.now();
}

function log(line) {
  console.log(line);
}

function mib(bytes) {
  return (bytes / 1048576).toFixed(0);
}

function round1(x) {
  return Math.round(x * 10) / 10;
}

function round2(x) {
  return Math.round(x * 100) / 100;
}
