// The transfer engine (src/node/files.ts, sending.ts, receiving.ts) between two real profiles in
// this process, over a pair of fake links that deliver each side's frames to the other in order
// and let a test hold, corrupt or cut them: a corrupted chunk fetched again, a cancel from each
// side mid-transfer, a file changed after its offer, a link that goes and comes back.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewEvent, Stored } from '../../src/events/types.js';
import { createFiles, type Files } from '../../src/node/files.js';
import { partPath } from '../../src/node/placing.js';
import { openProfile, type Profile } from '../../src/node/profile.js';
import { splitChunkContentId } from '../../src/net/frame.js';
import { decodeFiles } from '../../src/net/files.js';
import { RECEIVED_WINDOW } from '../../src/node/credit.js';
import { runningMeter } from '../../src/node/speeds.js';
import { sumsBase } from '../../src/node/sums.js';
import { packetsFor } from '../../src/projections/quotas.js';
import type { PeerLink } from '../../src/net/peer.js';
import { tempHome } from '../helpers/cli.js';

const A = 11;
const B = 22;
const CHUNK = 64 * 1024;

// muted: events journaled as by a command on a stopped profile (the engine does not see them).
type Side = { id: number; profile: Profile; files: Files; link: PeerLink | undefined; events: Stored[]; muted: boolean };

// What the wire between the two does to chunks: hold them back after `holdAfter` chunks (until
// release), or change one once.
type Wire = { holdAfter: number; held: Array<() => void>; corrupt: Set<number>; chunks: number; release: () => void; drop: (payload: Buffer) => boolean };

function fakeLinks(wire: Wire, deliver: { toA: Side; toB: Side }): { ab: PeerLink; ba: PeerLink } {
  const make = (from: number, self: () => Side, to: () => Side): PeerLink => {
    // One queue per direction: frames arrive in the order written, each in a turn of its own.
    let tail = Promise.resolve();
    const later = (fn: () => void): void => {
      tail = tail.then(() => new Promise<void>((resolve) => setImmediate(() => (fn(), resolve()))));
    };
    const link = {
      peer: from === A ? B : A,
      sendFileControl: (_cid: number, payload: Buffer) => {
        const copy = Buffer.from(payload);
        if (wire.drop(copy)) return true;
        later(() => self().link === link && to().files.onControl(from, copy));
        return true;
      },
      sendBulk: async (_type: number, contentId: number, payload: Buffer) => {
        const data = Buffer.from(payload);
        const { index } = splitChunkContentId(contentId);
        if (wire.corrupt.delete(index)) data[0] ^= 0xff;
        wire.chunks++;
        const go = (): void => later(() => self().link === link && to().files.onChunk(from, contentId, data));
        if (wire.chunks > wire.holdAfter) wire.held.push(go);
        else go();
        return true;
      },
    } as unknown as PeerLink;
    return link;
  };
  return { ab: make(A, () => deliver.toA, () => deliver.toB), ba: make(B, () => deliver.toB, () => deliver.toA) };
}

const opened: Profile[] = [];
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close().catch(() => undefined);
});

async function side(id: number, peer: number): Promise<Side> {
  const profile = await openProfile(tempHome(`files-${id}`));
  opened.push(profile);
  await profile.appendMany([
    { type: 'contact.added', peer, name: `p${peer}`, whitelisted: true },
    { type: 'quota.granted', peer, direction: 'inbound', kind: 'files', n: 1_000_000 },
    { type: 'settings.changed', key: 'auto-accept-files', value: true },
  ]);
  const s: Side = { id, profile, files: null as unknown as Files, link: undefined, events: [], muted: false };
  s.files = createFiles({ profile, log: () => undefined, linkOf: () => s.link, want: () => undefined });
  profile.subscribe((e) => {
    s.events.push(e);
    if (!s.muted) s.files.onEvent(e);
  });
  return s;
}

async function pair(): Promise<{ a: Side; b: Side; wire: Wire; connect: () => Promise<void>; cut: () => Promise<void> }> {
  const a = await side(A, B);
  const b = await side(B, A);
  const wire: Wire = { holdAfter: Infinity, held: [], corrupt: new Set(), chunks: 0, release: () => undefined, drop: () => false };
  wire.release = () => {
    wire.holdAfter = Infinity;
    for (const go of wire.held.splice(0)) go();
  };
  const connect = async (): Promise<void> => {
    const { ab, ba } = fakeLinks(wire, { toA: a, toB: b });
    a.link = ab;
    b.link = ba;
    await Promise.all([a.files.linkUp(B), b.files.linkUp(A)]);
  };
  const cut = async (): Promise<void> => {
    a.link = undefined;
    b.link = undefined;
    // What the link held back is lost with it; the next link holds nothing back.
    wire.held.length = 0;
    wire.holdAfter = Infinity;
    await Promise.all([a.files.linkDown(B), b.files.linkDown(A)]);
  };
  return { a, b, wire, connect, cut };
}

function makeFile(dir: string, bytes: number): { file: string; sha: string } {
  const file = path.join(dir, 'data.bin');
  const data = Buffer.alloc(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  fs.writeFileSync(file, data);
  return { file, sha: createHash('sha256').update(data).digest('hex') };
}

const offerOut = (id: string, file: string, size: number): NewEvent => ({ type: 'transfer.offered', id, peer: B, direction: 'out', name: 'data.bin', size, chunkSize: CHUNK, path: file });

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const has = (s: Side, type: string, id = 't1'): boolean => s.events.some((e) => e.type === type && (e as { id?: string }).id === id);
const eventOf = (s: Side, type: string, id = 't1'): Record<string, unknown> => s.events.find((e) => e.type === type && (e as { id?: string }).id === id) as unknown as Record<string, unknown>;

describe('files - the engine between two profiles', () => {
  it('files - a chunk corrupted on the way is asked for again, and the file arrives whole', async () => {
    const { a, b, wire, connect } = await pair();
    const size = 10 * CHUNK + 77;
    const { file, sha } = makeFile(a.profile.home, size);
    wire.corrupt.add(3);
    await connect();
    await a.profile.append(offerOut('t1', file, size));
    await until(() => has(a, 'transfer.completed') && has(b, 'transfer.completed'), 'completed on both sides');
    const done = eventOf(b, 'transfer.completed') as { path: string; root: string };
    expect(createHash('sha256').update(fs.readFileSync(done.path)).digest('hex')).toBe(sha);
    expect(eventOf(a, 'transfer.completed').root).toBe(done.root);
    // The bad chunk crossed the wire twice: wire bytes count it both times.
    const wireIn = b.events.reduce((n, e) => n + ((e as { wireBytes?: number }).wireBytes ?? 0), 0);
    expect(wireIn).toBe(size + CHUNK);
  });

  it('files - no chunk is written while the receiver\'s journal has a synced write waiting (a message goes first on the disk)', async () => {
    const { a, b, connect } = await pair();
    const size = 12 * CHUNK + 5;
    const { file, sha } = makeFile(a.profile.home, size);
    // The receiver's journal, as if a message's synced write were under way until released.
    const waiting: Array<() => void> = [];
    let holding = true;
    const synced = b.profile.synced;
    b.profile.synced = () => (holding ? new Promise<void>((resolve) => waiting.push(resolve)) : synced());
    await connect();
    await a.profile.append(offerOut('t1', file, size));
    await until(() => has(b, 'transfer.accepted') && waiting.length > 0, 'a chunk waiting for the journal');
    const accepted = eventOf(b, 'transfer.accepted');
    const part = partPath(accepted.path as string, accepted.peer as number, accepted.id as string);
    // Every chunk the window lets through arrives meanwhile; none is written, none stored.
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(fs.statSync(part).size).toBe(0);
    expect(has(b, 'transfer.chunks-stored')).toBe(false);
    holding = false;
    for (const go of waiting.splice(0)) go();
    await until(() => has(a, 'transfer.completed') && has(b, 'transfer.completed'), 'completed on both sides');
    expect(createHash('sha256').update(fs.readFileSync(eventOf(b, 'transfer.completed').path as string)).digest('hex')).toBe(sha);
  });

  it('files - an empty file completes too', async () => {
    const { a, b, connect } = await pair();
    const { file } = makeFile(a.profile.home, 0);
    await connect();
    await a.profile.append(offerOut('t1', file, 0));
    await until(() => has(a, 'transfer.completed') && has(b, 'transfer.completed'), 'completed on both sides');
    expect(fs.statSync(eventOf(b, 'transfer.completed').path as string).size).toBe(0);
  });

  it.each(['sender', 'receiver'])('files - cancelled by the %s mid-transfer: cancelled on both sides, no .part left', async (who) => {
    const { a, b, wire, connect } = await pair();
    const size = 40 * CHUNK;
    const { file } = makeFile(a.profile.home, size);
    wire.holdAfter = 10;
    await connect();
    await a.profile.append(offerOut('t1', file, size));
    await until(() => has(b, 'transfer.chunks-stored'), 'the first chunks stored');
    if (who === 'sender') await a.profile.append({ type: 'transfer.cancelled', id: 't1', peer: B, direction: 'out', by: 'me' });
    else await b.profile.append({ type: 'transfer.cancelled', id: 't1', peer: A, direction: 'in', by: 'me' });
    wire.release();
    const other = who === 'sender' ? b : a;
    await until(() => has(other, 'transfer.cancelled'), 'the other side cancelled');
    expect(eventOf(other, 'transfer.cancelled').by).toBe('peer');
    const accepted = eventOf(b, 'transfer.accepted');
    const part = partPath(accepted.path as string, accepted.peer as number, accepted.id as string);
    await until(() => !fs.existsSync(part), 'the .part removed');
    expect(has(a, 'transfer.completed') || has(b, 'transfer.completed')).toBe(false);
  });

  it('files - cancelled by the sender while the link is down: the receiver hears it on the next link', async () => {
    const { a, b, wire, connect, cut } = await pair();
    const size = 30 * CHUNK;
    const { file } = makeFile(a.profile.home, size);
    wire.holdAfter = 12;
    await connect();
    await a.profile.append(offerOut('t1', file, size));
    await until(() => has(b, 'transfer.chunks-stored'), 'the first chunks stored');
    await cut();
    await a.profile.append({ type: 'transfer.cancelled', id: 't1', peer: B, direction: 'out', by: 'me' });
    await connect();
    await until(() => has(b, 'transfer.cancelled'), 'bob hears of the cancel');
    expect(eventOf(b, 'transfer.cancelled').by).toBe('peer');
  });

  it('files - a receiver that crashed while putting the file in place finishes it at the next link, from its .done record', async () => {
    const { a, b, wire, connect, cut } = await pair();
    const size = 5 * CHUNK + 9;
    const { file, sha } = makeFile(a.profile.home, size);
    // The root never arrives: every chunk stored, nothing placed.
    wire.drop = (payload) => decodeFiles(payload).k === 'root';
    await connect();
    await a.profile.append(offerOut('t1', file, size));
    await until(() => b.events.filter((e) => e.type === 'transfer.chunks-stored').flatMap((e) => (e as { chunks: number[] }).chunks).length === 6, 'every chunk stored');
    await cut();
    // As a crash after the .done record and before the link leaves it.
    const data = fs.readFileSync(file);
    const hashes = Array.from({ length: 6 }, (_, c) => createHash('sha256').update(data.subarray(c * CHUNK, (c + 1) * CHUNK)).digest());
    const root = createHash('sha256').update(Buffer.concat(hashes)).digest('hex');
    const dest = eventOf(b, 'transfer.accepted').path as string;
    fs.writeFileSync(`${sumsBase(b.profile.home, A, 'in', 't1')}.done`, JSON.stringify({ path: dest, root }));
    wire.drop = () => false;
    await connect();
    await until(() => has(a, 'transfer.completed') && has(b, 'transfer.completed'), 'completed on both sides');
    expect(eventOf(b, 'transfer.completed')).toMatchObject({ path: dest, root });
    expect(createHash('sha256').update(fs.readFileSync(dest)).digest('hex')).toBe(sha);
    const accepted = eventOf(b, 'transfer.accepted');
    expect(fs.existsSync(partPath(dest, accepted.peer as number, accepted.id as string))).toBe(false);
  });

  it.each([
    ['a path separator', 'a/b.txt'],
    ['a backslash', 'a\\b.txt'],
    ['..', '..'],
    ['an absolute path', '/etc/passwd'],
    ['a reserved Windows name', 'CON'],
    ['a reserved Windows name with an extension', 'nul.tar.gz'],
    ['a colon (NTFS streams)', 'a.txt:evil'],
    ['a trailing dot', 'a.'],
    ['a trailing space', 'a '],
    ['a control character', 'a\nb'],
    ['a terminal escape', '\u001b[31mred'],
    ['a right-to-left override', 'invoice\u202efdp.exe'],
    ['over 255 bytes', 'я'.repeat(128)],
  ])('files - an offer whose name has %s is declined with the reason on both sides', async (_what, name) => {
    const { a, b, connect } = await pair();
    const { file } = makeFile(a.profile.home, 10);
    await connect();
    await a.profile.append({ ...offerOut('t1', file, 10), name } as NewEvent);
    await until(() => has(a, 'transfer.declined') && has(b, 'transfer.declined'), 'declined on both sides');
    const reason = eventOf(b, 'transfer.declined').reason as string;
    expect(reason).toMatch(/^the name is refused: /);
    expect(eventOf(a, 'transfer.declined').reason).toBe(reason);
    expect(has(b, 'transfer.accepted')).toBe(false);
    expect(fs.existsSync(path.join(b.profile.home, 'downloads'))).toBe(false);
  });

  it('files - the sender waits for got: with every report lost, it hands the received window and no more (chunks of 64 KiB fill it exactly); the next link resumes it to a whole file', async () => {
    const { a, b, wire, connect, cut } = await pair();
    const size = 64 * CHUNK;
    const { file, sha } = makeFile(a.profile.home, size);
    let reports = 0;
    wire.drop = (payload) => decodeFiles(payload).k === 'got' && ++reports > 0;
    await connect();
    await a.profile.append(offerOut('t1', file, size));
    await until(() => has(b, 'transfer.chunks-stored'), 'the first chunks stored');
    // Stored and acked is not taken: the acks do not move the received window.
    await until(() => has(a, 'transfer.chunks-acked'), 'the first chunks acked');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reports).toBeGreaterThan(0);
    expect(wire.chunks).toBe(RECEIVED_WINDOW / CHUNK);
    await cut();
    wire.drop = () => false;
    await connect();
    await until(() => has(a, 'transfer.completed') && has(b, 'transfer.completed'), 'completed on both sides');
    const done = eventOf(b, 'transfer.completed') as { path: string };
    expect(createHash('sha256').update(fs.readFileSync(done.path)).digest('hex')).toBe(sha);
  });

  it('files - the same id both ways: a cancel of my transfer leaves the peer\'s transfer of that id alone', async () => {
    const { a, b, wire, connect } = await pair();
    const size = 40 * CHUNK;
    const fromA = makeFile(a.profile.home, size);
    const fromB = makeFile(b.profile.home, 3 * CHUNK);
    wire.holdAfter = 10;
    await connect();
    await a.profile.append(offerOut('t1', fromA.file, size));
    await until(() => has(b, 'transfer.chunks-stored'), 'the first chunks stored');
    wire.release();
    await a.profile.append({ type: 'transfer.cancelled', id: 't1', peer: B, direction: 'out', by: 'me' });
    await b.profile.append({ type: 'transfer.offered', id: 't1', peer: A, direction: 'out', name: 'back.bin', size: 3 * CHUNK, chunkSize: CHUNK, path: fromB.file });
    await until(() => has(b, 'transfer.cancelled') && b.events.some((e) => e.type === 'transfer.completed' && (e as { direction?: string }).direction === 'out'), 'mine cancelled, theirs completed');
    expect(b.events.filter((e) => e.type === 'transfer.cancelled').map((e) => (e as { direction?: string }).direction)).toEqual(['in']);
    expect(a.events.filter((e) => e.type === 'transfer.completed').map((e) => (e as { direction?: string }).direction)).toEqual(['in']);
  });

  it('files - accepted while the client was stopped: the packets are spent at the first start, once', async () => {
    const { a, b, connect } = await pair();
    const size = 3 * CHUNK;
    const { file } = makeFile(a.profile.home, size);
    await a.profile.append(offerOut('t1', file, size));
    b.muted = true;
    await b.profile.appendMany([
      { type: 'transfer.offered', id: 't1', peer: A, direction: 'in', name: 'data.bin', size, chunkSize: CHUNK },
      { type: 'transfer.accepted', id: 't1', peer: A, direction: 'in', path: path.join(b.profile.home, 'downloads', 'data.bin') },
    ]);
    b.muted = false;
    await connect();
    await until(() => has(a, 'transfer.completed') && has(b, 'transfer.completed'), 'completed on both sides');
    expect(b.events.filter((e) => e.type === 'quota.spent')).toMatchObject([{ direction: 'inbound', kind: 'files', n: packetsFor(size), ref: 't1' }]);
  });

  it('files - cancelled by the receiver while its client was stopped: the sender hears it on the next link, the .part goes', async () => {
    const { a, b, wire, connect, cut } = await pair();
    const size = 30 * CHUNK;
    const { file } = makeFile(a.profile.home, size);
    wire.holdAfter = 12;
    await connect();
    await a.profile.append(offerOut('t1', file, size));
    await until(() => has(b, 'transfer.chunks-stored'), 'the first chunks stored');
    await cut();
    const accepted = eventOf(b, 'transfer.accepted');
    const part = partPath(accepted.path as string, accepted.peer as number, accepted.id as string);
    expect(fs.existsSync(part)).toBe(true);
    b.muted = true;
    await b.profile.append({ type: 'transfer.cancelled', id: 't1', peer: A, direction: 'in', by: 'me' });
    b.muted = false;
    await connect();
    await until(() => has(a, 'transfer.cancelled'), 'alice hears of the cancel');
    expect(eventOf(a, 'transfer.cancelled').by).toBe('peer');
    await until(() => !fs.existsSync(part), 'the .part removed');
  });

  it('files - the live speed comes from the engine: the receiver counts chunks as they come, the sender the acks; none once ended', async () => {
    const { a, b, wire, connect } = await pair();
    const size = 40 * CHUNK;
    const { file } = makeFile(a.profile.home, size);
    wire.holdAfter = 12;
    await connect();
    await a.profile.append(offerOut('t1', file, size));
    const rate = (s: Side, peer: number, direction: 'in' | 'out'): number | null | undefined => runningMeter(s.profile)?.rate(peer, direction, 't1', Date.now());
    await until(() => (rate(b, A, 'in') ?? 0) > 0, 'the receiver measures a speed');
    // The sender's speed needs two acks: the twelve flushed, then twelve more.
    await until(() => has(a, 'transfer.chunks-acked'), 'the first chunks acked');
    for (const go of wire.held.splice(0, 12)) go();
    await until(() => (rate(a, B, 'out') ?? 0) > 0, 'the sender measures a speed');
    expect(a.events.filter((e) => e.type === 'transfer.chunks-acked').length).toBeGreaterThanOrEqual(2);
    wire.release();
    await until(() => has(a, 'transfer.completed') && has(b, 'transfer.completed'), 'completed on both sides');
    expect(rate(b, A, 'in')).toBeNull();
    expect(rate(a, B, 'out')).toBeNull();
  });

  it('files - a file changed after its offer fails on both sides with the reason, never completes', async () => {
    const { a, b, connect } = await pair();
    const size = 4 * CHUNK;
    const { file } = makeFile(a.profile.home, size);
    await a.profile.append(offerOut('t1', file, size));
    fs.appendFileSync(file, 'more');
    await connect();
    await until(() => has(a, 'transfer.failed') && has(b, 'transfer.failed'), 'failed on both sides');
    expect(eventOf(a, 'transfer.failed').reason).toMatch(/changed since it was offered/);
    expect(eventOf(b, 'transfer.failed').reason).toMatch(/changed since it was offered/);
    expect(has(b, 'transfer.completed')).toBe(false);
  });

  it('files - a link that goes mid-transfer: paused on both sides, then resumed on the next link from what is stored, and whole', async () => {
    const { a, b, wire, connect, cut } = await pair();
    const size = 30 * CHUNK + 5;
    const { file, sha } = makeFile(a.profile.home, size);
    wire.holdAfter = 12;
    await connect();
    await a.profile.append(offerOut('t1', file, size));
    await until(() => has(b, 'transfer.chunks-stored') && has(a, 'transfer.chunks-acked'), 'the first chunks stored and acked');
    await cut();
    expect(has(a, 'transfer.paused') && has(b, 'transfer.paused')).toBe(true);
    await connect();
    await until(() => has(a, 'transfer.completed') && has(b, 'transfer.completed'), 'completed on both sides');
    expect(has(a, 'transfer.resumed') && has(b, 'transfer.resumed')).toBe(true);
    expect(createHash('sha256').update(fs.readFileSync(eventOf(b, 'transfer.completed').path as string)).digest('hex')).toBe(sha);
    // Every chunk stored, those before the cut once.
    const stored = b.events.filter((e) => e.type === 'transfer.chunks-stored').flatMap((e) => (e as { chunks: number[] }).chunks);
    expect(new Set(stored).size).toBe(31);
    expect(stored.length).toBe(31);
    // The packets were spent once, at the acceptance.
    expect(b.events.filter((e) => e.type === 'quota.spent')).toHaveLength(1);
  });
});
