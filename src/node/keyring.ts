// The keys that seal message texts at rest, one current key per chat, in HOME/keys.json beside
// the journal. Forgetting a chat forgets its keys, and with them every copy of its texts that a
// LevelDB file, a log or a compaction may still hold: a history clear costs the chat's own
// events and a rewrite of this small file, not a rewrite of the store (docs/ARCHITECTURE.md,
// "Forgetting a chat").
//
// The keys are not secret from whoever can read the profile (they lie beside it); they exist to
// be thrown away. The file is replaced whole (written to a temporary file, flushed, renamed over),
// so it is always one version or the other, never half of each.
//
// A sealed text: key id (8 bytes) | nonce (12) | AES-256-GCM ciphertext | tag (16), the
// additional data binding it to its event ("type\0peer\0id"), so a sealed text cannot be moved
// to another message.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const KEYRING_FILE = 'keys.json';
const VERSION = 1;
const KEY_ID_BYTES = 8;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

type ChatKey = { id: Buffer; key: Buffer };

export type Keyring = {
  file: string;
  // Seals `text` with the chat's current key, made (and stored) when the chat has none.
  seal: (peer: number, aad: string, text: string) => Buffer;
  // The text back, or null when its key is gone (a cleared chat) or the bytes were altered.
  open: (aad: string, sealed: Uint8Array) => string | null;
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

  function seal(peer: number, aad: string, text: string): Buffer {
    const list = chats.get(peer);
    let k = list && list[list.length - 1];
    if (!k) {
      k = newKey(peer);
      // Stored before anything sealed with it can be: the caller writes the event afterwards.
      store();
    }
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', k.key, nonce);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return Buffer.concat([k.id, nonce, body, cipher.getAuthTag()]);
  }

  function open(aad: string, sealed: Uint8Array): string | null {
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (bytes.length < KEY_ID_BYTES + NONCE_BYTES + TAG_BYTES) return null;
    const k = byId.get(bytes.subarray(0, KEY_ID_BYTES).toString('hex'));
    if (!k) return null;
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', k.key, bytes.subarray(KEY_ID_BYTES, KEY_ID_BYTES + NONCE_BYTES));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(KEY_ID_BYTES + NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
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

  return { file, seal, open, rotate, forgetOld, keysOf: (peer) => chats.get(peer)?.length ?? 0 };
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
