// Running clients in tests: `parley init` arguments for a holder of the test PKI, `parley up` as a
// long-running child, a server on a chosen port, and a bounded wait for another process's state.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { RendezvousServer } from '../../server/server.js';
import { freePort } from '../cert/helpers.js';
import { cleanup, serverOn, tempDir, type TestPki } from '../server/helpers.js';
import { CLI, ROOT, runParley, tempHome } from './cli.js';

export function clientInitArgs(pki: TestPki, name: string, server: string, extra: string[] = []): string[] {
  const h = pki.ours.holders[name];
  return ['init', '--server', server, '--ca', pki.ours.caCertFile, '--cert', h.certFile, '--key', h.keyFile, '--password-file', pki.ours.passwordFile, ...extra];
}

export type Up = { child: ChildProcessWithoutNullStreams; stderr: () => string; waitFor: (text: string, ms?: number) => Promise<void>; exited: Promise<number | null> };

// `parley up` as a long-running child; its notes come on stderr. `wrap`: a command that runs it
// (['unshare', '-m', ...]), the node command line appended to it; the child's pid is then the
// wrapper's, which must exec it.
export function startUp(pki: TestPki, home: string, env: Record<string, string> = {}, wrap: string[] = []): Up {
  return startUpWith(pki.ours.passwordFile, home, env, wrap);
}

export function startUpWith(passwordFile: string, home: string, env: Record<string, string> = {}, wrap: string[] = []): Up {
  const argv = [process.execPath, CLI, 'up', '--home', home, '--password-file', passwordFile];
  const [file, ...args] = [...wrap, ...argv];
  const child = spawn(file, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  const waiters = new Set<() => void>();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    err += d;
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitFor = (text: string, ms = 15_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!err.includes(text)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`parley up did not say "${text}" within ${ms} ms; stderr: ${err}`));
      }, ms);
      waiters.add(check);
      void exited.then(() => {
        if (waiters.has(check)) {
          waiters.delete(check);
          clearTimeout(timer);
          if (err.includes(text)) resolve();
          else reject(new Error(`parley up exited before saying "${text}"; stderr: ${err}`));
        }
      });
      check();
    });
  return { child, stderr: () => err, waitFor, exited };
}

// Polls a condition that another process makes true (the status of a running client), bounded.
export async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
  }
}

export async function serverAt<T>(pki: TestPki, port: number, work: (srv: RendezvousServer) => Promise<T>): Promise<T> {
  const dataDir = tempDir('client-server');
  const srv = await serverOn(pki, dataDir, { port });
  try {
    return await work(srv);
  } finally {
    await srv.close();
    cleanup(dataDir);
  }
}


// A person for the end-to-end tests: a profile made with `parley init` for a holder of the test
// PKI, and its `parley up` online at the server (null once stopped).
export type Person = { home: string; id: number; up: Up | null };

export async function personAt(pki: TestPki, name: string, port: number, env: Record<string, string> = {}): Promise<Person> {
  const home = tempHome(`e2e-${name}`);
  const init = await runParley(clientInitArgs(pki, name, `127.0.0.1:${port}`), { home });
  if (init.code !== 0) throw new Error(`parley init for ${name}: ${init.stderr}`);
  await lanOff(home);
  const up = startUp(pki, home, env);
  await up.waitFor('online at');
  const id = (JSON.parse((await runParley(['status', '--json'], { home })).stdout) as { id: number }).id;
  return { home, id, up };
}

// The people of one test find each other through the server or an invite, as each test means them
// to: LAN discovery off, or every client on this machine would hear every other one
// (test/e2e/lan.test.ts turns it on where it is what is tested).
// Alice and Bob, contacts of each other, online at a server of their own; both stopped after.
export async function withPair(pki: TestPki, work: (p: { a: Person; b: Person }) => Promise<void>): Promise<void> {
  const port = await freePort();
  await serverAt(pki, port, async () => {
    const a = await personAt(pki, 'alice', port);
    const b = await personAt(pki, 'bob', port);
    try {
      expect((await runParley(['contacts', 'add', String(b.id), '--name', 'B'], { home: a.home })).code).toBe(0);
      expect((await runParley(['contacts', 'add', String(a.id), '--name', 'A'], { home: b.home })).code).toBe(0);
      await work({ a, b });
    } finally {
      await stopPerson(a);
      await stopPerson(b);
    }
  });
}

export async function lanOff(home: string): Promise<void> {
  const r = await runParley(['settings', 'set', 'lan-discovery', 'off'], { home });
  if (r.code !== 0) throw new Error(`settings set lan-discovery off: ${r.stderr}`);
}

export async function stopPerson(p: Person, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p.up) return;
  p.up.child.kill(signal);
  await p.up.exited;
  p.up = null;
}

export async function restartPerson(pki: TestPki, p: Person): Promise<void> {
  p.up = startUp(pki, p.home);
  await p.up.waitFor('online at');
}

// A person with a self-signed profile (`parley init` without a server, issue 10) and its
// `parley up`, which needs no server: its id, key fingerprint and the port its client listens on.
export type SelfSignedPerson = Person & { key: string; port: number; passwordFile: string };

export const SELF_SIGNED_PASSWORD = 'a key password';

export async function selfSignedPerson(name: string, options: { up?: boolean } = {}): Promise<SelfSignedPerson> {
  const home = tempHome(`p2p-${name}`);
  const init = await runParley(['init', '--name', name, '--json'], { home, env: { PARLEY_KEY_PASSWORD: SELF_SIGNED_PASSWORD } });
  if (init.code !== 0) throw new Error(`parley init for ${name}: ${init.stderr}`);
  await lanOff(home);
  const row = JSON.parse(init.stdout) as { id: number; key_sha256: string };
  const passwordFile = path.join(home, 'password.txt');
  fs.writeFileSync(passwordFile, SELF_SIGNED_PASSWORD + '\n');
  const p: SelfSignedPerson = { home, id: row.id, key: row.key_sha256, port: 0, passwordFile, up: null };
  if (options.up !== false) await restartSelfSigned(p);
  return p;
}

// (Re)starts the person's `parley up` and reads the port it listens on.
export async function restartSelfSigned(p: SelfSignedPerson): Promise<void> {
  p.up = startUpWith(p.passwordFile, p.home);
  await p.up.waitFor('the client runs on');
  p.port = (JSON.parse((await runParley(['status', '--json'], { home: p.home })).stdout) as { listen_port: number }).listen_port;
}
