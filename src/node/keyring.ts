// The keys that seal message texts at rest, one current key per chat, in HOME/keys.json beside
// the journal. Forgetting a chat forgets its keys, and with them every copy of its texts that a
// LevelDB file, a log or a compaction may still hold: a history clear costs the chat's own
// events and a rewrite of this small file, not a rewrite of the store (docs/ARCHITECTURE.md,
// "Forgetting a chat").
//
// The keys are not secret from whoever can read the profile (they lie beside it); they exist to
// be thrown away. The file is replaced whole (written to a temporary file, flushed, renamed over),
// so it is always one version or the other, never half of each. The journal's sealer (sealer.ts)
// puts a sealed text in place of `text` as an event is stored, and opens it as it is read.
//
// A sealed text: key id (8 bytes) | counter block (16) | skip (1) | AES-256-CTR ciphertext.
// Each chat key runs one keystream per process: the counter block is 8 random bytes drawn when
// the stream starts and an 8-byte block counter, so no two texts ever share keystream (64 random
// bits per stream: a repeat is not to be expected in 2^32 starts of Parley). A text starts
// `skip` bytes into the block its counter names. Opening: AES-256-CTR from that block, the first
// `skip` bytes dropped.
//
// Why CTR and not an AEAD: the keys exist to be forgotten, not to stop someone who can write
// the profile (they lie beside it), so there is nothing for a tag to protect; and a cipher made
// per message (AES-GCM, with its random nonce) cost 13 µs a message here, more than an append of
// the event itself (~2 µs), where one running stream per chat costs under 1 µs
// (docs/BENCHMARKS.md).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const KEYRING_FILE = 'keys.json';
const VERSION = 1;
const KEY_ID_BYTES = 8;
const BLOCK = 16;
const HEADER = KEY_ID_BYTES + BLOCK + 1;

// The running keystream of a key in this process: its cipher and how many bytes it has given.
type Stream = { cipher: crypto.Cipher; prefix: Buffer; offset: number };
// `blocks`: AES-256 in ECB mode with this key, for the keystream of a text being opened (below).
type ChatKey = { id: Buffer; key: Buffer; stream?: Stream; blocks?: crypto.Cipher };

export type Keyring = {
  file: string;
  // Seals `text` with the chat's current key, made (and stored) when the chat has none.
  seal: (peer: number, text: string) => Buffer;
  // Seals each text as `seal` would, one after the other, with one cipher call per chat.
  sealMany: (items: ReadonlyArray<{ peer: number; text: string }>) => Buffer[];
  // The text back, or null when its key is gone (a cleared chat) or the bytes are no sealed text.
  open: (sealed: Uint8Array) => string | null;
  // Each text back as `open` gives it, with one cipher call per key for all of them.
  openMany: (sealed: ReadonlyArray<Uint8Array>) => Array<string | null>;
  // A new current key for the chat: what is sealed from now on survives the forgetting of the
  // keys before it.
  rotate: (peer: number) => void;
  // Forgets every key of the chat but the current one.
  forgetOld: (peer: number) => void;
  // How many keys the chat has (tests, and the check at open).
  keysOf: (peer: number) => number;
};

type File = { version: number; chats: Record<string, Array<{ id: string; key: string }>> };

export function openKeyring(home: string): Keyring {
  const file = path.join(home, KEYRING_FILE);
  const chats = new Map<number, ChatKey[]>();
  const byId = new Map<string, ChatKey>();
  // One process holds a profile (the journal's lock), so one temporary name does. A crash can
  // leave it behind, holding keys a clear meant to forget: it goes first.
  const temp = `${file}.tmp`;
  fs.rmSync(temp, { force: true });
  load();

  function load(): void {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const data = JSON.parse(text) as File;
    if (data.version !== VERSION) throw new Error(`${file} is version ${data.version}, this Parley reads version ${VERSION}`);
    for (const [peer, keys] of Object.entries(data.chats)) {
      const list = keys.map((k) => ({ id: Buffer.from(k.id, 'hex'), key: Buffer.from(k.key, 'base64') }));
      chats.set(Number(peer), list);
      for (const k of list) byId.set(k.id.toString('hex'), k);
    }
  }

  // The whole file again: a few dozen bytes per chat.
  function store(): void {
    const data: File = { version: VERSION, chats: {} };
    for (const [peer, keys] of chats) data.chats[peer] = keys.map((k) => ({ id: k.id.toString('hex'), key: k.key.toString('base64') }));
    const fd = fs.openSync(temp, 'w', 0o600);
    try {
      fs.writeFileSync(fd, JSON.stringify(data));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.renameSync(temp, file);
    } catch (err) {
      fs.rmSync(temp, { force: true });
      throw err;
    }
    syncDir(path.dirname(file));
  }

  function newKey(peer: number): ChatKey {
    const k = { id: crypto.randomBytes(KEY_ID_BYTES), key: crypto.randomBytes(32) };
    const list = chats.get(peer) ?? [];
    list.push(k);
    chats.set(peer, list);
    byId.set(k.id.toString('hex'), k);
    return k;
  }

  // The chat's current key and its running stream, both made when missing.
  function currentOf(peer: number): { k: ChatKey; s: Stream } {
    const list = chats.get(peer);
    let k = list && list[list.length - 1];
    if (!k) {
      k = newKey(peer);
      // Stored before anything sealed with it can be: the caller writes the event afterwards.
      store();
    }
    if (!k.stream) {
      const prefix = crypto.randomBytes(8);
      k.stream = { cipher: crypto.createCipheriv('aes-256-ctr', k.key, Buffer.concat([prefix, Buffer.alloc(8)])), prefix, offset: 0 };
    }
    return { k, s: k.stream };
  }

  function seal(peer: number, text: string): Buffer {
    return sealMany([{ peer, text }])[0];
  }

  // CTR is a stream: one update over a chat's texts laid end to end gives the same bytes as an
  // update per text, and a call into the cipher cost more than the AES of a short text (an
  // append seals a few hundred texts of a few dozen chats; measured under bench/history). So the
  // texts of each chat are encrypted together and then cut apart, each with its own header.
  function sealMany(items: ReadonlyArray<{ peer: number; text: string }>): Buffer[] {
    const out = new Array<Buffer>(items.length);
    const byPeer = new Map<number, number[]>();
    for (let i = 0; i < items.length; i++) {
      const list = byPeer.get(items[i].peer);
      if (list) list.push(i);
      else byPeer.set(items[i].peer, [i]);
    }
    for (const [peer, indexes] of byPeer) {
      const { k, s } = currentOf(peer);
      const lengths = indexes.map((i) => Buffer.byteLength(items[i].text, 'utf8'));
      const plain = Buffer.allocUnsafe(lengths.reduce((a, b) => a + b, 0));
      let at = 0;
      for (let j = 0; j < indexes.length; j++) at += plain.write(items[indexes[j]].text, at, 'utf8');
      const cipher = s.cipher.update(plain);
      at = 0;
      for (let j = 0; j < indexes.length; j++) {
        const n = lengths[j];
        const sealed = Buffer.allocUnsafe(HEADER + n);
        k.id.copy(sealed, 0);
        s.prefix.copy(sealed, KEY_ID_BYTES);
        // The block counter, a 64-bit big-endian number, as two halves (no BigInt made per text).
        const block = Math.floor(s.offset / BLOCK);
        sealed.writeUInt32BE(Math.floor(block / 0x100000000), KEY_ID_BYTES + 8);
        sealed.writeUInt32BE(block >>> 0, KEY_ID_BYTES + 12);
        sealed[KEY_ID_BYTES + BLOCK] = s.offset % BLOCK;
        cipher.copy(sealed, HEADER, at, at + n);
        at += n;
        s.offset += n;
        out[indexes[j]] = sealed;
      }
    }
    return out;
  }

  function open(sealed: Uint8Array): string | null {
    return openMany([sealed])[0];
  }

  // CTR's keystream is AES of the counter blocks; made here with one ECB cipher per key rather
  // than a CTR decipher per text (creating a cipher cost more than a page's texts), and for all
  // the texts of a key at once: one cipher call for a page or a replay's batch, where a call per
  // text cost more than its AES.
  function openMany(items: ReadonlyArray<Uint8Array>): Array<string | null> {
    const out = new Array<string | null>(items.length).fill(null);
    const byKey = new Map<ChatKey, number[]>();
    let blocks = 0;
    for (let i = 0; i < items.length; i++) {
      const bytes = items[i];
      if (bytes.length < HEADER || bytes[KEY_ID_BYTES + BLOCK] >= BLOCK) continue;
      const k = byId.get(Buffer.from(bytes.buffer, bytes.byteOffset, KEY_ID_BYTES).toString('hex'));
      if (!k) continue;
      const list = byKey.get(k);
      if (list) list.push(i);
      else byKey.set(k, [i]);
      blocks += blocksOf(bytes);
    }
    const counters = Buffer.allocUnsafe(blocks * BLOCK);
    for (const [k, indexes] of byKey) {
      let at = 0;
      for (const i of indexes) {
        const bytes = items[i];
        const n = blocksOf(bytes);
        writeCounterBlocks(counters, at, bytes.subarray(KEY_ID_BYTES, KEY_ID_BYTES + BLOCK), n);
        at += n * BLOCK;
      }
      k.blocks ??= crypto.createCipheriv('aes-256-ecb', k.key, null).setAutoPadding(false);
      const stream = at > 0 ? k.blocks.update(counters.subarray(0, at)) : counters; // all empty texts
      at = 0;
      for (const i of indexes) {
        const bytes = items[i];
        const skip = bytes[KEY_ID_BYTES + BLOCK];
        const plain = Buffer.allocUnsafe(bytes.length - HEADER);
        for (let j = 0; j < plain.length; j++) plain[j] = bytes[HEADER + j] ^ stream[at + skip + j];
        out[i] = plain.toString('utf8');
        at += blocksOf(bytes) * BLOCK;
      }
    }
    return out;
  }

  function rotate(peer: number): void {
    newKey(peer);
    store();
  }

  function forgetOld(peer: number): void {
    const list = chats.get(peer);
    if (!list || list.length <= 1) return;
    const current = list[list.length - 1];
    for (const k of list.slice(0, -1)) byId.delete(k.id.toString('hex'));
    chats.set(peer, [current]);
    store();
  }

  return { file, seal, sealMany, open, openMany, rotate, forgetOld, keysOf: (peer) => chats.get(peer)?.length ?? 0 };
}

// How many blocks of keystream a sealed text needs: its `skip` bytes and its own.
function blocksOf(sealed: Uint8Array): number {
  return Math.ceil((sealed[KEY_ID_BYTES + BLOCK] + sealed.length - HEADER) / BLOCK);
}

// `n` counter blocks from `first` on, as CTR mode counts (the whole 16 bytes one big-endian
// number), written into `out` at `at`.
function writeCounterBlocks(out: Buffer, at: number, first: Uint8Array, n: number): void {
  if (n === 0) return;
  out.set(first, at);
  for (let b = 1; b < n; b++) {
    const from = at + b * BLOCK;
    out.copy(out, from, from - BLOCK, from);
    for (let i = from + BLOCK - 1; i >= from; i--) {
      out[i] = (out[i] + 1) & 0xff;
      if (out[i] !== 0) break;
    }
  }
}

// A rename is durable once its directory is: flushed where the platform lets a directory be
// opened (not on Windows, whose rename is durable through the file system's own journal).
function syncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
