// A small MessagePack encoder for journal values. msgpackr writes whole numbers beyond 32 bits
// (every time in ms, 40-bit ids, file sizes) as float64, and converting them to BigInt first
// tripled the cost of an append (measured here). This encoder writes them as uint64/int64, leaves
// out map entries whose value is undefined, and never uses an extension type, so any MessagePack
// reader gets back plain maps, strings and integers. msgpackr still decodes (codec.ts).
//
// Values are written into a shared slab and handed out as views of it; a slab is never written
// again once full, so the views stay valid while a LevelDB batch holds them.

const SLAB_SIZE = 256 * 1024;
let slab = Buffer.allocUnsafe(SLAB_SIZE);
let start = 0;
let pos = 0;

function ensure(n: number): void {
  if (pos + n <= slab.length) return;
  const used = pos - start;
  const next = Buffer.allocUnsafe(Math.max(SLAB_SIZE, (used + n) * 2));
  slab.copy(next, 0, start, pos);
  slab = next;
  start = 0;
  pos = used;
}

export function encodeMsgpack(value: unknown): Buffer {
  start = pos;
  write(value);
  const out = slab.subarray(start, pos);
  // Keep values 8-byte aligned in the slab; cheap, and a big slab then rarely splits a value.
  pos = (pos + 7) & ~7;
  if (pos > slab.length) pos = slab.length;
  return out;
}

function write(value: unknown): void {
  switch (typeof value) {
    case 'string':
      writeString(value);
      return;
    case 'number':
      writeNumber(value);
      return;
    case 'boolean':
      ensure(1);
      slab[pos++] = value ? 0xc3 : 0xc2;
      return;
    case 'undefined':
      ensure(1);
      slab[pos++] = 0xc0;
      return;
    case 'bigint':
      ensure(9);
      slab[pos++] = 0xd3;
      slab.writeBigInt64BE(value, pos);
      pos += 8;
      return;
    case 'object':
      if (value === null) {
        ensure(1);
        slab[pos++] = 0xc0;
      } else if (Array.isArray(value)) writeArray(value);
      else if (value instanceof Uint8Array) writeBinary(value);
      else writeMap(value as Record<string, unknown>);
      return;
    default:
      throw new TypeError(`cannot encode a ${typeof value} in an event`);
  }
}

function put32(v: number): void {
  slab[pos++] = v >>> 24;
  slab[pos++] = (v >>> 16) & 0xff;
  slab[pos++] = (v >>> 8) & 0xff;
  slab[pos++] = v & 0xff;
}

function writeNumber(v: number): void {
  ensure(9);
  if (Number.isSafeInteger(v)) {
    if (v >= 0) {
      if (v < 0x80) slab[pos++] = v;
      else if (v < 0x100) {
        slab[pos++] = 0xcc;
        slab[pos++] = v;
      } else if (v < 0x10000) {
        slab[pos++] = 0xcd;
        slab.writeUInt16BE(v, pos);
        pos += 2;
      } else if (v < 0x100000000) {
        slab[pos++] = 0xce;
        put32(v);
      } else {
        slab[pos++] = 0xcf;
        put32(Math.floor(v / 0x100000000));
        put32(v >>> 0);
      }
    } else if (v >= -0x20) slab[pos++] = 0x100 + v;
    else if (v >= -0x80) {
      slab[pos++] = 0xd0;
      slab.writeInt8(v, pos);
      pos += 1;
    } else if (v >= -0x8000) {
      slab[pos++] = 0xd1;
      slab.writeInt16BE(v, pos);
      pos += 2;
    } else if (v >= -0x80000000) {
      slab[pos++] = 0xd2;
      slab.writeInt32BE(v, pos);
      pos += 4;
    } else {
      slab[pos++] = 0xd3;
      slab.writeBigInt64BE(BigInt(v), pos);
      pos += 8;
    }
    return;
  }
  slab[pos++] = 0xcb;
  slab.writeDoubleBE(v, pos);
  pos += 8;
}

// Short strings (nearly all of an event's) are encoded to UTF-8 here in JS: a call into
// Buffer's native writer costs more than the loop. Long ones go to the native writer.
function writeString(s: string): void {
  const n = s.length;
  if (n >= 256) {
    const bytes = Buffer.byteLength(s, 'utf8');
    ensure(bytes + 5);
    writeStringHeader(bytes);
    pos += slab.write(s, pos, bytes, 'utf8');
    return;
  }
  // Room for the worst case, three bytes a UTF-16 unit, and a str16 header written after.
  ensure(n * 3 + 3);
  // Most strings of an event are short and ASCII (field names, types, ids): one byte a unit and
  // a one-byte header known at once, so no header to move back (copyWithin, a native call, cost
  // more than the loop for a name such as 'message.transmitted'). A string that turns out not
  // to be ASCII is written again below.
  if (n < 32 && writeShortAscii(s, n)) return;
  const headerAt = pos;
  const header = n * 3 < 32 ? 1 : n * 3 < 0x100 ? 2 : 3;
  let p = pos + header;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) slab[p++] = c;
    else if (c < 0x800) {
      slab[p++] = 0xc0 | (c >> 6);
      slab[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          slab[p++] = 0xf0 | (c >> 18);
          slab[p++] = 0x80 | ((c >> 12) & 0x3f);
          slab[p++] = 0x80 | ((c >> 6) & 0x3f);
          slab[p++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      // A lone surrogate becomes U+FFFD, as Buffer and TextEncoder write it.
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      slab[p++] = 0xe0 | (c >> 12);
      slab[p++] = 0x80 | ((c >> 6) & 0x3f);
      slab[p++] = 0x80 | (c & 0x3f);
    }
  }
  const bytes = p - headerAt - header;
  const need = bytes < 32 ? 1 : bytes < 0x100 ? 2 : 3;
  // The header was sized for the worst case; move the bytes back if a shorter one fits.
  if (need !== header) slab.copyWithin(headerAt + need, headerAt + header, p);
  pos = headerAt;
  writeStringHeader(bytes);
  pos += bytes;
}

// `s` (n < 32 units) as a fixstr if it is all ASCII; false, with nothing kept, if it is not.
function writeShortAscii(s: string, n: number): boolean {
  let p = pos + 1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return false;
    slab[p++] = c;
  }
  slab[pos] = 0xa0 | n;
  pos = p;
  return true;
}

function writeStringHeader(bytes: number): void {
  if (bytes < 32) slab[pos++] = 0xa0 | bytes;
  else if (bytes < 0x100) {
    slab[pos++] = 0xd9;
    slab[pos++] = bytes;
  } else if (bytes < 0x10000) {
    slab[pos++] = 0xda;
    slab[pos++] = bytes >> 8;
    slab[pos++] = bytes & 0xff;
  } else {
    slab[pos++] = 0xdb;
    slab.writeUInt32BE(bytes, pos);
    pos += 4;
  }
}

function writeBinary(b: Uint8Array): void {
  const n = b.byteLength;
  ensure(n + 5);
  if (n < 0x100) {
    slab[pos++] = 0xc4;
    slab[pos++] = n;
  } else if (n < 0x10000) {
    slab[pos++] = 0xc5;
    slab.writeUInt16BE(n, pos);
    pos += 2;
  } else {
    slab[pos++] = 0xc6;
    slab.writeUInt32BE(n, pos);
    pos += 4;
  }
  slab.set(b, pos);
  pos += n;
}

function writeLength(n: number, fix: number, fixMax: number, c16: number, c32: number): void {
  ensure(5);
  if (n < fixMax) slab[pos++] = fix | n;
  else if (n < 0x10000) {
    slab[pos++] = c16;
    slab.writeUInt16BE(n, pos);
    pos += 2;
  } else {
    slab[pos++] = c32;
    slab.writeUInt32BE(n, pos);
    pos += 4;
  }
}

function writeArray(a: unknown[]): void {
  writeLength(a.length, 0x90, 16, 0xdc, 0xdd);
  for (let i = 0; i < a.length; i++) write(a[i]);
}

// The map `o` with its entry `from` written as `to: value` instead, in the same place; the object
// itself is left as it is. For a value stored in another form than its caller holds it (a sealed
// text, keyring.ts), without copying the object first (a copy per event cost more than the
// encoding).
export function encodeMsgpackReplacing(o: Record<string, unknown>, from: string, to: string, value: unknown): Buffer {
  start = pos;
  writeMap(o, from, to, value);
  const out = slab.subarray(start, pos);
  pos = (pos + 7) & ~7;
  if (pos > slab.length) pos = slab.length;
  return out;
}

// `from`, when given, is written as `to: value` in its place (encodeMsgpackReplacing).
function writeMap(o: Record<string, unknown>, from?: string, to?: string, value?: unknown): void {
  let n = 0;
  for (const k in o) if (o[k] !== undefined) n++;
  writeLength(n, 0x80, 16, 0xde, 0xdf);
  for (const k in o) {
    const v = o[k];
    if (v === undefined) continue;
    if (k === from) {
      writeString(to as string);
      write(value);
      continue;
    }
    writeString(k);
    write(v);
  }
}
