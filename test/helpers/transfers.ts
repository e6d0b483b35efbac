// Files between two running clients in the end-to-end tests (test/e2e/transfers*.test.ts), a
// pair of contacts online at a server of their own (client.ts, withPair): files to send, the
// batch `parley send-file` journals, and the transfer events each journal holds (read through
// the running client).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { NewEvent } from '../../src/events/types.js';
import { packetsFor } from '../../src/projections/quotas.js';
import type { TestPki } from '../server/helpers.js';
import { appendEvents, jsonLines, runParley } from './cli.js';
import { restartPerson, stopPerson, until, type Person } from './client.js';

// A file of `mib` MiB of varied bytes, and its SHA-256.
export function makeFile(dir: string, name: string, bytes: number): { file: string; sha: string } {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(1024 * 1024);
  const hash = createHash('sha256');
  for (let at = 0, i = 0; at < bytes; at += block.length, i++) {
    for (let j = 0; j < block.length; j += 4) block.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
    const part = block.subarray(0, Math.min(block.length, bytes - at));
    fs.writeSync(fd, part);
    hash.update(part);
  }
  fs.closeSync(fd);
  return { file, sha: hash.digest('hex') };
}

export function shaOf(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// The batch `parley send-file` journals.
export function offerBatch(to: number, id: string, file: string, size: number, name = path.basename(file)): NewEvent[] {
  return [
    { type: 'quota.spent', peer: to, direction: 'outbound', kind: 'files', n: packetsFor(size), ref: id },
    { type: 'transfer.offered', id, peer: to, direction: 'out', name, size, chunkSize: 1_048_576, path: file },
  ];
}

// Stops both, journals what each is given, starts both again.
export async function journalWhileStopped(pki: TestPki, a: Person, forA: NewEvent[], b: Person, forB: NewEvent[]): Promise<void> {
  await stopPerson(a);
  await stopPerson(b);
  if (forA.length > 0) await appendEvents(a.home, forA);
  if (forB.length > 0) await appendEvents(b.home, forB);
  await restartPerson(pki, b);
  await restartPerson(pki, a);
}

export async function transferEvents(p: Person, id: string): Promise<Array<Record<string, unknown>>> {
  const r = await runParley(['journal', 'inspect', '--json'], { home: p.home });
  return jsonLines(r.stdout).filter((e) => String(e.type).startsWith('transfer.') && e.id === id);
}

export async function lastOf(p: Person, id: string, type: string): Promise<Record<string, unknown> | undefined> {
  return (await transferEvents(p, id)).filter((e) => e.type === type).at(-1);
}

// On a failed wait: what both journals and both clients said, then the error.
export function explain(a: Person, b: Person, id: string): (err: Error) => Promise<never> {
  return async (err) => {
    console.log(JSON.stringify(await transferEvents(a, id)), JSON.stringify(await transferEvents(b, id)), a.up?.stderr(), b.up?.stderr());
    throw err;
  };
}

// Waits until the receiver's .part holds `bytes`. The server runs in this process: each look at
// the file yields to its event loop.
export async function partReaches(part: string, bytes: number, ms = 30_000): Promise<void> {
  await until(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return fs.existsSync(part) && fs.statSync(part).size >= bytes;
  }, `${part} reaches ${bytes} bytes`, ms);
}

export const autoAccept: NewEvent = { type: 'settings.changed', key: 'auto-accept-files', value: true };

// A transfer's line of `parley transfers --json` (answered by the running client, if any).
export async function listed(p: Person, id: string): Promise<Record<string, unknown> | undefined> {
  return jsonLines((await runParley(['transfers', '--json'], { home: p.home })).stdout).find((t) => t.id === id);
}
