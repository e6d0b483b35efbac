// A profile's journal read with tools no one here wrote: Debian's python3-plyvel (LevelDB),
// python3-msgpack and python3-cryptography. The store must be plain LevelDB with keys 'e' +
// 8-byte big-endian seq and values of plain MessagePack, so that any reader gets back the events
// `journal inspect` shows, with integers as integers (times in ms and 40-bit ids included), and
// message texts sealed with AES-256-CTR under the chat's key in keys.json (docs/ARCHITECTURE.md,
// "Forgetting a chat"), which a reader with that file opens.
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { NewEvent } from '../../src/events/types.js';
import { openProfile } from '../../src/node/profile.js';
import { jsonLines, runParley, runPython, tempHome } from '../helpers/cli.js';

const BIG = 1099511627775; // 2^40 - 1, the largest id
const AT = Date.UTC(2024, 4, 17, 12, 0, 0, 123);

// Prints, for each key under b'e': its hex, the decoded value (a sealed text opened with the
// keys of argv[2]), whether its text was sealed, and the Python type of every leaf (int, float,
// str, bool, None), so the test can tell 1 from 1.0.
const READER = `
import base64, json, sys
import msgpack, plyvel
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

keys = {}
with open(sys.argv[2], encoding='utf-8') as f:
    for chat in json.load(f)['chats'].values():
        for k in chat:
            keys[bytes.fromhex(k['id'])] = base64.b64decode(k['key'])

# key id (8) | counter block (16) | skip (1) | AES-256-CTR ciphertext
def unseal(event):
    s = event.pop('sealed')
    d = Cipher(algorithms.AES(keys[s[:8]]), modes.CTR(s[8:24])).decryptor()
    d.update(bytes(s[24]))
    event['text'] = d.update(s[25:]).decode('utf-8')

def types(v):
    if isinstance(v, dict):
        return {k: types(x) for k, x in v.items()}
    if isinstance(v, list):
        return [types(x) for x in v]
    return type(v).__name__

db = plyvel.DB(sys.argv[1], create_if_missing=False)
out = []
try:
    for key, value in db.iterator(prefix=b'e'):
        event = msgpack.unpackb(value, raw=False)
        sealed = 'sealed' in event and 'text' not in event
        if sealed:
            unseal(event)
        out.append({'key': key.hex(), 'value': event, 'sealed': sealed, 'types': types(event)})
finally:
    db.close()
print(json.dumps(out, ensure_ascii=False))
`;

// A precondition of the test below, not a test of its own: a missing module fails that test with
// how to install it, rather than with Python's traceback.
async function requirePython(): Promise<void> {
  const r = await runPython('import plyvel, msgpack, cryptography').catch((err: Error) => ({ code: -1, stderr: err.message }));
  if (r.code !== 0) {
    throw new Error(
      `/usr/bin/python3 cannot import plyvel, msgpack and cryptography (${r.stderr.trim().split('\n').pop()}): ` +
        'run .ci/run, or `apt-get install python3-plyvel python3-msgpack python3-cryptography` (CI installs them)',
    );
  }
}

const EVENTS: NewEvent[] = [
  { type: 'contact.added', peer: BIG, name: 'Анна 🌷', whitelisted: true, at: AT },
  { type: 'contact.added', peer: 1, name: 'one', whitelisted: false, at: AT + 1 },
  { type: 'message.sent', id: 'm-1', peer: BIG, text: 'Привет, "мир"\n👋', packets: 1, replyTo: 'r-0', at: AT + 2 },
  { type: 'message.received', id: 'r-1', peer: BIG, text: 'ok', sentAt: AT - 5000, at: AT + 3 },
  { type: 'message.delivered', id: 'm-1', peer: BIG, receivedAt: AT + 4, at: AT + 5 },
  { type: 'transfer.offered', id: 't-1', peer: BIG, direction: 'out', name: 'huge.iso', size: 107_374_182_400, chunkSize: 65_536, at: AT + 6 },
  { type: 'transfer.chunks-stored', id: 't-1', chunks: [0, 1, 255, 256, 65_535, 65_536, 1_638_399], at: AT + 7 },
  { type: 'quota.granted', peer: BIG, direction: 'inbound', kind: 'messages', n: 4_294_967_295, at: AT + 8 },
  { type: 'quota.granted', peer: BIG, direction: 'inbound', kind: 'files', n: 4_294_967_296, at: AT + 9 },
  { type: 'settings.changed', key: 'max', value: Number.MAX_SAFE_INTEGER, at: AT + 10 },
  { type: 'settings.changed', key: 'negative', value: -(2 ** 40), at: AT + 11 },
  { type: 'settings.changed', key: 'language', value: 'ru', at: AT + 12 },
  { type: 'settings.changed', key: 'sound', value: false, at: AT + 13 },
  { type: 'identity.created', id: BIG, keySha256: 'ab'.repeat(32) },
];
// Enough events that seqs cross the one-byte (256) boundary of the key.
const FILLER: NewEvent[] = Array.from({ length: 300 }, (_, i) => ({ type: 'settings.changed' as const, key: `k${i}`, value: i }));

// JSON's view of which leaves are integers: every number in `journal inspect --json` here is one.
function integerPaths(value: unknown, at = ''): string[] {
  if (typeof value === 'number') return Number.isInteger(value) ? [at] : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => integerPaths(v, at ? `${at}.${k}` : k));
}

function pick(value: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], value);
}

describe('interop', () => {
  test('interop - plyvel and msgpack read the journal: keys 0x65 + 8-byte big-endian seq in order, values the events of journal inspect', async () => {
    await requirePython();
    const home = tempHome();
    const profile = await openProfile(home);
    try {
      await profile.appendMany(structuredClone(EVENTS));
      await profile.appendMany(structuredClone(FILLER));
      await profile.append({ type: 'message.read', id: 'r-1', peer: BIG, by: 'me' });
    } finally {
      await profile.close();
    }
    const inspect = await runParley(['journal', 'inspect', '--json'], { home });
    expect(inspect.code, inspect.stderr).toBe(0);
    const events = jsonLines(inspect.stdout);
    expect(events).toHaveLength(EVENTS.length + FILLER.length + 1);

    const py = await runPython(READER, [path.join(home, 'journal'), path.join(home, 'keys.json')]);
    expect(py.code, py.stderr).toBe(0);
    const read = JSON.parse(py.stdout) as { key: string; value: Record<string, unknown>; sealed: boolean; types: Record<string, unknown> }[];
    // Message texts, and only they, are sealed at rest: no other reader sees them without the keys.
    expect(read.filter((r) => r.sealed).map((r) => r.value.type)).toEqual(['message.sent', 'message.received']);
    expect(read).toHaveLength(events.length);

    // Keys: 9 bytes, 0x65 then the seq big-endian, in seq order (LevelDB's order is append order).
    const keySeqs = read.map((r) => {
      expect(r.key).toMatch(/^65[0-9a-f]{16}$/);
      return Number(BigInt('0x' + r.key.slice(2)));
    });
    expect(keySeqs).toEqual(events.map((e) => e.seq));
    expect(keySeqs).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    expect(read.map((r) => r.key)).toEqual(read.map((r) => r.key).sort());

    for (let i = 0; i < events.length; i++) {
      const { seq, ...fields } = events[i];
      // The same fields and values (the seq lives in the key, not in the value).
      expect(read[i].value, `seq ${seq}`).toEqual(fields);
      // Every number that is whole in JSON is an int in Python, never a float.
      for (const p of integerPaths(fields)) expect(pick(read[i].types, p), `seq ${seq} ${p}`).toBe('int');
      expect(JSON.stringify(read[i].types)).not.toContain('"float"');
    }

    // The wide ones, spelled out.
    const bySeq = (s: number) => read[s - 1];
    expect(bySeq(1).value).toMatchObject({ peer: BIG, at: AT, name: 'Анна 🌷' });
    expect(bySeq(1).types).toMatchObject({ peer: 'int', at: 'int', whitelisted: 'bool' });
    expect(bySeq(4).value).toMatchObject({ sentAt: AT - 5000 });
    expect(bySeq(6).value).toMatchObject({ size: 107_374_182_400 });
    expect(bySeq(6).types).toMatchObject({ size: 'int' });
    expect(bySeq(9).value).toMatchObject({ n: 4_294_967_296 });
    expect(bySeq(10).value).toMatchObject({ value: Number.MAX_SAFE_INTEGER });
    expect(bySeq(11).value).toMatchObject({ value: -(2 ** 40) });
    expect(bySeq(11).types).toMatchObject({ value: 'int' });
    expect(bySeq(13).types).toMatchObject({ value: 'bool' });
    expect(bySeq(14).value).toMatchObject({ type: 'identity.created', id: BIG });
    expect(Number.isSafeInteger(bySeq(14).value.at)).toBe(true);
    // No msgpackr records or extensions: a plain map with string keys.
    for (const r of read) expect(Object.keys(r.value)).toContain('type');
  });
});
