import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KEYRING_FILE, openKeyring } from '../../src/node/keyring.js';
import { tempHome } from '../helpers/cli.js';

// The 16-byte counter block and skip of a sealed text: where in its keystream it starts.
function startOf(sealed: Buffer): bigint {
  return sealed.readBigUInt64BE(16) * 16n + BigInt(sealed[24]);
}

describe('keyring', () => {
  it('keyring - any text opens back as it was, in this process and after a restart', () => {
    const home = tempHome();
    const ring = openKeyring(home);
    const texts: string[] = [];
    const sealed: Buffer[] = [];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.string({ unit: 'grapheme', maxLength: 200 }), (peer, text) => {
        const s = ring.seal(peer, text);
        expect(s.includes(Buffer.from(text, 'utf8')) && text.length > 3).toBe(false);
        expect(ring.open(s)).toBe(text);
        texts.push(text);
        sealed.push(s);
      }),
      { numRuns: 300 },
    );
    const again = openKeyring(home);
    sealed.forEach((s, i) => expect(again.open(s)).toBe(texts[i]));
    // A new process starts a new stream for the same key, and it opens too.
    const more = again.seal(1, 'after a restart');
    expect(openKeyring(home).open(more)).toBe('after a restart');
  });

  it('keyring - no two texts share keystream: each starts where the one before ended', () => {
    const ring = openKeyring(tempHome());
    const a = ring.seal(1, 'x'.repeat(37));
    const b = ring.seal(1, 'y');
    const c = ring.seal(1, 'z'.repeat(16));
    expect(a.subarray(8, 16).equals(b.subarray(8, 16))).toBe(true); // one stream, one random prefix
    expect([startOf(a), startOf(b), startOf(c)]).toEqual([0n, 37n, 38n]);
    // Another chat: its own key.
    expect(ring.seal(2, 'x').subarray(0, 8).equals(a.subarray(0, 8))).toBe(false);
  });

  it('keyring - sealMany seals each text as seal would, one after the other, chats interleaved', () => {
    const ring = openKeyring(tempHome());
    const items = [
      { peer: 1, text: 'x'.repeat(37) },
      { peer: 2, text: 'Привет 👍' },
      { peer: 1, text: 'y' },
      { peer: 2, text: '' },
      { peer: 1, text: 'z'.repeat(16) },
    ];
    const sealed = ring.sealMany(items);
    expect(sealed.map((s) => ring.open(s))).toEqual(items.map((i) => i.text));
    expect([startOf(sealed[0]), startOf(sealed[2]), startOf(sealed[4])]).toEqual([0n, 37n, 38n]);
    expect([startOf(sealed[1]), startOf(sealed[3])]).toEqual([0n, BigInt(Buffer.byteLength(items[1].text))]);
    // The stream goes on where the group ended.
    expect(startOf(ring.seal(1, 'next'))).toBe(54n);
  });

  it('keyring - openMany opens each text as open would, keys mixed, with the unopenable ones null', () => {
    const ring = openKeyring(tempHome());
    const long = 'l'.repeat(70); // 37 bytes into chat 1's stream: five blocks, from its third
    const items = [
      { peer: 1, text: 'x'.repeat(37) },
      { peer: 2, text: 'Привет 👍' },
      { peer: 1, text: '' },
      { peer: 1, text: long },
      { peer: 2, text: 'z'.repeat(16) },
    ];
    const sealed = ring.sealMany(items);
    ring.rotate(1);
    const later = ring.seal(1, 'a later key');
    const gone = openKeyring(tempHome()).seal(1, 'another profile');
    const all = [sealed[0], Buffer.from('short'), sealed[1], gone, sealed[2], later, sealed[3], Buffer.alloc(40), sealed[4]];
    expect(ring.openMany(all)).toEqual([items[0].text, null, items[1].text, null, '', 'a later key', long, null, items[4].text]);
    expect(ring.openMany(all)).toEqual(all.map((s) => ring.open(s)));
    expect(ring.openMany([])).toEqual([]);
  });

  it('keyring - rotate then forgetOld: texts sealed before cannot be opened, texts after can, and the old key is in no file', () => {
    const home = tempHome();
    const ring = openKeyring(home);
    const before = ring.seal(5, 'forget me');
    const other = ring.seal(6, 'keep me');
    const oldKey = JSON.parse(fs.readFileSync(path.join(home, KEYRING_FILE), 'utf8')).chats['5'][0].key as string;
    ring.rotate(5);
    const after = ring.seal(5, 'new chat');
    expect(ring.keysOf(5)).toBe(2);
    expect(ring.open(before)).toBe('forget me');
    ring.forgetOld(5);
    expect(ring.keysOf(5)).toBe(1);
    for (const r of [ring, openKeyring(home)]) {
      expect(r.open(before)).toBeNull();
      expect([r.open(after), r.open(other)]).toEqual(['new chat', 'keep me']);
    }
    for (const file of fs.readdirSync(home)) expect(fs.readFileSync(path.join(home, file), 'utf8').includes(oldKey), file).toBe(false);
  });

  it('keyring - a temporary file a crash left behind (holding old keys) is removed at open; garbage is not a sealed text', () => {
    const home = tempHome();
    const ring = openKeyring(home);
    ring.seal(5, 'x');
    fs.writeFileSync(path.join(home, `${KEYRING_FILE}.tmp`), fs.readFileSync(path.join(home, KEYRING_FILE)));
    openKeyring(home);
    expect(fs.readdirSync(home)).toEqual([KEYRING_FILE]);
    expect(ring.open(Buffer.from('short'))).toBeNull();
    expect(ring.open(Buffer.alloc(40))).toBeNull();
  });
});
