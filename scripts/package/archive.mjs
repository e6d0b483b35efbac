// The archives the packages ship in (build.mjs, step 5), written here rather than by tar or zip
// programs so that two checkouts give the same bytes: fixed owners, dates and order.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

// Step 5, Linux: a POSIX ustar archive in a folder named as the archive, gzip'd (zlib's default
// level: 9 s here where level 9 takes 25 s for 0.4 % less; its header has no time or name).
// Root-owned, dated 0, in the order given.
export function writeTarGz(out, files) {
  const top = path.basename(out).replace(/\.tar\.gz$/, '');
  const blocks = [];
  const header = (name, size, mode, type) => {
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write(octal(mode, 8), 100);
    h.write(octal(0, 8), 108); // uid
    h.write(octal(0, 8), 116); // gid
    h.write(octal(size, 12), 124);
    h.write(octal(0, 12), 136); // mtime
    h.fill(' ', 148, 156); // checksum, counted as spaces
    h.write(type, 156);
    h.write('ustar\u000000', 257);
    h.write('root', 265);
    h.write('root', 297);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(octal(sum, 7), 148); // 6 digits, NUL, space
    h[155] = 0x20;
    return h;
  };
  blocks.push(header(`${top}/`, 0, 0o755, '5'));
  for (const f of files) {
    blocks.push(header(`${top}/${f.name}`, f.data.length, f.mode, '0'), f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  fs.writeFileSync(out, zlib.gzipSync(Buffer.concat(blocks)));
}

function octal(n, width) {
  return n.toString(8).padStart(width - 1, '0') + '\u0000';
}

// Step 5, Windows: a zip with the files at its top (Explorer's "Extract all" makes the folder),
// deflated (default level, as the tar.gz), dated 1980-01-01 (the first date a zip can hold). Under 4 GiB: no zip64.
export function writeZip(out, files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const packed = zlib.deflateRawSync(f.data);
    const crc = zlib.crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: deflate
    local.writeUInt16LE(0x0800, 6); // names in UTF-8
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(0, 10); // time 00:00
    local.writeUInt16LE((0 << 9) | (1 << 5) | 1, 12); // date 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, so the mode below is read
    local.copy(central, 6, 4, 30); // version needed .. name length, as in the local header
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE(((0o100000 | f.mode) << 16) >>> 0, 38); // regular file and its mode
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  fs.writeFileSync(out, Buffer.concat([...locals, directory, end]));
}
