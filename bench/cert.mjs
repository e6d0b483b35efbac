// npm run bench -- cert [SECONDS]   (default 6 s of handshakes per key size)
// (standalone, after `npm run build`: node bench/cert.mjs [SECONDS])
// What Parley's certificate choices cost (docs/CERTIFICATES.md): for RSA 2048, 3072 and 4096,
// key generation, opening an encrypted key (PBKDF2-HMAC-SHA256 at the product's iteration
// count, against OpenSSL's default 2,048 in the same run), and full mutual TLS 1.3 handshakes
// per second on loopback, the listener in a worker thread and the dialler in the main thread,
// so each end has a core of its own. Sizes are compared with 2048 measured in the same run.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { median } from './lib/figures.mjs';
import { createCa } from '../dist/cert/ca.js';
import { KDF } from '../dist/cert/constants.js';
import { createCsr } from '../dist/cert/csr.js';
import { encryptPrivateKey, generateKey } from '../dist/cert/keys.js';
import { signCsr } from '../dist/cert/sign.js';
import { clientTlsOptions, loadIdentity, serverTlsOptions } from '../dist/src/net/tls.js';

const SIZES = [2048, 3072, 4096];
const PASSWORD = 'bench password';
const CONCURRENCY = 8;

if (!isMainThread) {
  // The listener: accepts, lets the handshake finish, closes.
  const server = tls.createServer(serverTlsOptions(workerData.identity));
  let accepted = 0;
  server.on('secureConnection', (socket) => {
    accepted += 1;
    socket.on('error', () => {});
    // One byte after the handshake: the dialler counts a handshake only once the listener has
    // finished its side too (checked the client's certificate and Finished).
    socket.end('k');
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
  parentPort.on('message', (msg) => {
    if (msg === 'stop') server.close(() => parentPort.postMessage({ accepted }));
  });
} else {
  await main();
}

async function main() {
  const seconds = Number(process.argv[2] ?? 6);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-cert-'));
  const listeners = [];
  try {
    const ca = await createCa(PASSWORD, { iterations: 1000 });
    const caFile = path.join(dir, 'rootCA.crt');
    fs.writeFileSync(caFile, ca.certPem);
    const sizes = [];
    for (const bits of SIZES) {
      const keygenMs = await medianMs(3, () => generateKey(bits));
      // A real key file, encrypted as `parley cert csr` writes it.
      const csr = await createCsr(`bench-${bits}`, PASSWORD, { bits });
      const certFile = path.join(dir, `${bits}.crt`);
      const keyFile = path.join(dir, `${bits}.key`);
      fs.writeFileSync(certFile, signCsr({ certPem: ca.certPem, key: ca.key }, csr.csrPem, { role: 'client' }).certPem);
      fs.writeFileSync(keyFile, csr.keyPem);
      const files = { caFile, certFile, keyFile, password: PASSWORD };
      const loadMs = await medianMs(5, () => loadIdentity(files));
      const identity = loadIdentity(files);
      const listener = await startListener(identity);
      listeners.push(listener);
      sizes.push({ bits, keygenMs, loadMs, identity, listener, rates: [], cpu: [] });
    }
    // The machine is shared: sizes take turns in short slices and each figure is a median over
    // its slices, so a burst of someone else's work hits all three alike.
    const ROUNDS = 6;
    const slice = (seconds * 1000) / ROUNDS;
    for (let round = 0; round < ROUNDS; round++) {
      for (const size of sizes) {
        const m = await measureSlice(size.identity, size.listener.port, slice);
        size.rates.push(m.perSecond);
        size.cpu.push(m.cpuMsPerHandshake);
      }
    }
    // The KDF alone: the product's count against OpenSSL's default (what Node's own export writes).
    const weakKey = await generateKey(2048);
    const weakPem = weakKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSWORD });
    const strongPem = await encryptPrivateKey(weakKey, PASSWORD);
    const open2048 = await medianMs(7, () => crypto.createPrivateKey({ key: weakPem, format: 'pem', passphrase: PASSWORD }));
    const openStrong = await medianMs(7, () => crypto.createPrivateKey({ key: strongPem, format: 'pem', passphrase: PASSWORD }));

    const results = sizes.map((s) => ({
      bits: s.bits,
      keygen_ms: round1(s.keygenMs),
      key_load_ms: round1(s.loadMs),
      handshakes_per_s: round1(median(s.rates)),
      cpu_ms_per_handshake: Math.round(median(s.cpu) * 100) / 100,
    }));
    const base = results[0];
    console.log(`mutual TLS 1.3 on loopback: listener in a worker thread, dialler in the main thread, ${CONCURRENCY} in flight;`);
    console.log(`${ROUNDS} slices of ${(slice / 1000).toFixed(1)} s per size, taken in turns; medians. CPU is both ends together.`);
    console.log('bits   keygen ms   key load ms   handshakes/s   vs 2048   CPU ms/handshake   vs 2048');
    for (const r of results) {
      console.log(
        `${String(r.bits).padEnd(6)} ${r.keygen_ms.toFixed(0).padStart(9)}   ${r.key_load_ms.toFixed(0).padStart(11)}   ${r.handshakes_per_s.toFixed(0).padStart(12)}   ${(r.handshakes_per_s / base.handshakes_per_s).toFixed(2).padStart(7)}   ${r.cpu_ms_per_handshake.toFixed(2).padStart(16)}   ${(r.cpu_ms_per_handshake / base.cpu_ms_per_handshake).toFixed(2).padStart(7)}`,
      );
    }
    console.log(`opening an encrypted key: PBKDF2 x ${KDF.ITERATIONS} ${openStrong.toFixed(1)} ms, x 2048 (OpenSSL's default) ${open2048.toFixed(1)} ms`);
    console.log(JSON.stringify({ bench: 'cert', seconds, concurrency: CONCURRENCY, iterations: KDF.ITERATIONS, open_ms: round1(openStrong), open_2048_iterations_ms: round1(open2048), cpus: os.cpus().length, loadavg: os.loadavg().map(round1), node: process.version, results }));
  } finally {
    for (const listener of listeners) await listener.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function startListener(identity) {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { identity } });
  const { port } = await new Promise((resolve) => worker.once('message', resolve));
  return {
    port,
    stop: async () => {
      worker.postMessage('stop');
      await new Promise((resolve) => worker.once('message', resolve));
      await worker.terminate();
    },
  };
}

// Handshakes for `ms` milliseconds, CONCURRENCY at a time; the process's CPU time (both threads)
// divided by the count gives the cost of one handshake at both ends.
async function measureSlice(identity, port, ms) {
  const options = { host: '127.0.0.1', port, ...clientTlsOptions(identity, { expectRole: 'client' }) };
  const one = () =>
    new Promise((resolve, reject) => {
      const socket = tls.connect(options);
      socket.once('data', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    });
  for (let i = 0; i < 4; i++) await one();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + ms;
  let count = 0;
  const lane = async () => {
    while (performance.now() < until) {
      await one();
      count += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { perSecond: count / elapsed, cpuMsPerHandshake: (cpu.user + cpu.system) / 1000 / count };
}

function round1(x) {
  return Math.round(x * 10) / 10;
}

async function medianMs(runs, fn) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
