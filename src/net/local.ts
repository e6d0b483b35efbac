// A private local socket beside a data directory: how a command reaches the process that holds a
// store (LevelDB lets one process open it). The server's admin socket (server/admin.ts) and the
// running client's (src/node/control.ts) are both made here (docs/PROTOCOL.md section 11).
//
// Only the owner's account may ever connect. On Unix the socket is made inside a directory that
// mkdtemp creates with mode 0700 and a random name, so it is closed to others from the moment it
// exists (a chmod after listen would leave a window with the umask's permissions) and no other
// user can put a socket of their own where the command will look. A pointer file in the data
// directory says where it is:
//   /srv/parley/parley-admin-Xq3b9Z/admin.sock     (a deep data directory: in the temporary one)
// On Windows, which has no socket files, it is a named pipe, also with a random part in its name
// and also named by the pointer (a pipe's default rights let only its creator, the
// administrators and the system write to it, so nobody else can send a request):
//   \\.\pipe\parley-server-3f2a9c0d11e4b5a6-9e0c44f2a1b37d58
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// Which socket: its names, and the code of the error when its directory is not private.
export type LocalKind = {
  dirPrefix: string; // 'parley-admin-'
  socketName: string; // 'admin.sock'
  pointer: string; // 'admin.path', in the data directory
  pipePrefix: string; // '\\.\pipe\parley-server-'
  unsafeCode: string; // 'SERVER_ADMIN_UNSAFE'
};

export type LocalListener = { path: string; close: () => Promise<void> };

// Unix socket paths are limited to about 104 bytes (macOS) to 108 (Linux).
const MAX_SOCKET_PATH = 100;

function dirHash(dir: string): string {
  return createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 16);
}

// => '\\.\pipe\parley-server-3f2a9c0d11e4b5a6-9e0c44f2a1b37d58': the data directory's hash, so an
// owner can tell whose it is, and a random part, so nobody can make it first.
export function pipeName(kind: LocalKind, dir: string, random: string = randomBytes(8).toString('hex')): string {
  return `${kind.pipePrefix}${dirHash(dir)}-${random}`;
}

// Where the private directory goes: the data directory, unless the socket's path would be too
// long there. => '/srv/parley'
export function socketBase(kind: LocalKind, dir: string, tmp: string = os.tmpdir()): string {
  const inDir = path.resolve(dir);
  const longest = path.join(inDir, kind.dirPrefix + 'XXXXXX', kind.socketName);
  return Buffer.byteLength(longest) <= MAX_SOCKET_PATH ? inDir : tmp;
}

function pointerFile(kind: LocalKind, dir: string): string {
  return path.join(path.resolve(dir), kind.pointer);
}

// A path that a pointer may name: on Windows this directory's pipe; elsewhere a socket in a
// private directory of one of the two places they are made. Anything else in the file is not
// ours to follow or delete.
export function isLocalPath(kind: LocalKind, dir: string, where: string, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'win32') return /^[0-9a-f]{16}$/.test(where.slice(-16)) && where === pipeName(kind, dir, where.slice(-16));
  const sockDir = path.dirname(where);
  const parent = path.dirname(sockDir);
  return (
    path.isAbsolute(where) &&
    path.basename(where) === kind.socketName &&
    /^[A-Za-z0-9]{6}$/.test(path.basename(sockDir).slice(kind.dirPrefix.length)) &&
    path.basename(sockDir).length === kind.dirPrefix.length + 6 &&
    (parent === path.resolve(dir) || parent === path.resolve(os.tmpdir()))
  );
}

// Before connecting: the socket's directory is still the private one the owner made (a
// directory, closed to others, of the pointer's owner), not one someone put in its place in the
// temporary directory after a crash and a reboot.
function checkPrivate(kind: LocalKind, dir: string, where: string): void {
  if (process.platform === 'win32') return;
  const owner = fs.statSync(pointerFile(kind, dir)).uid;
  let st: fs.Stats | null = null;
  try {
    st = fs.lstatSync(path.dirname(where));
  } catch {
    // missing: connect says ENOENT
  }
  if (st && (!st.isDirectory() || (st.mode & 0o077) !== 0 || st.uid !== owner)) {
    throw Object.assign(new Error(`${path.dirname(where)} is not a private directory of ${dir}'s owner`), { code: kind.unsafeCode });
  }
}

// The socket the pointer names, or null when there is none (nothing runs, or it stopped).
function readPointer(kind: LocalKind, dir: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(pointerFile(kind, dir), 'utf8').trim();
  } catch {
    return null;
  }
  return isLocalPath(kind, dir, text) ? text : null;
}

// A crashed owner's directory and pointer. Only a directory that is ours: the caller holds the
// store's lock, so nothing alive uses it.
function removeStale(kind: LocalKind, dir: string): void {
  const old = readPointer(kind, dir);
  if (old && process.platform !== 'win32') {
    const sockDir = path.dirname(old);
    try {
      const st = fs.lstatSync(sockDir);
      if (st.isDirectory() && (typeof process.getuid !== 'function' || st.uid === process.getuid())) fs.rmSync(sockDir, { recursive: true, force: true });
    } catch {
      // gone already (a temporary directory cleaned at boot)
    }
  }
  fs.rmSync(pointerFile(kind, dir), { force: true });
}

// Reads newline-ended lines from a socket, at most maxLine characters each (a longer one drops
// the peer); calls onLine for each.
export function readLines(socket: net.Socket, maxLine: number, onLine: (line: string) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    buffered += text;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      onLine(line);
    }
    if (buffered.length > maxLine) socket.destroy();
  });
}

// Starts listening. The caller holds the store's lock, so a socket directory and pointer left by
// a crashed owner are stale and are removed first.
export async function listenLocal(kind: LocalKind, dir: string, onSocket: (socket: net.Socket) => void): Promise<LocalListener> {
  const windows = process.platform === 'win32';
  let sockDir: string | null = null;
  let where: string;
  removeStale(kind, dir);
  if (windows) {
    where = pipeName(kind, dir);
  } else {
    // mkdtemp makes the directory with mode 0700 whatever the umask, under a name not known
    // before: no other user can reach a socket inside it, nor prepare one there.
    sockDir = fs.mkdtempSync(path.join(socketBase(kind, dir), kind.dirPrefix));
    where = path.join(sockDir, kind.socketName);
  }
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    onSocket(socket);
  });
  const removeDir = (): void => {
    if (sockDir) fs.rmSync(sockDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(where, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The directory already keeps others out; the socket's own mode is a second lock.
    if (!windows) fs.chmodSync(where, 0o600);
    // Written whole, then renamed: a command never reads half a path.
    const pointer = pointerFile(kind, dir);
    fs.writeFileSync(pointer + '.tmp', where + '\n', { mode: 0o600 });
    fs.renameSync(pointer + '.tmp', pointer);
  } catch (err) {
    server.close();
    removeDir();
    throw err;
  }
  server.on('error', () => undefined);
  return {
    path: where,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          if (readPointer(kind, dir) === where) fs.rmSync(pointerFile(kind, dir), { force: true });
          removeDir();
          resolve();
        });
      }),
  };
}

// Connects to the socket of `dir`. Rejects with the socket's error (ENOENT: no pointer or no
// socket; ECONNREFUSED: nothing answers there) or the kind's unsafe code.
export function connectLocal(kind: LocalKind, dir: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const where = readPointer(kind, dir);
    if (where === null) {
      reject(Object.assign(new Error(`${pointerFile(kind, dir)} names no socket`), { code: 'ENOENT' }));
      return;
    }
    try {
      checkPrivate(kind, dir, where);
    } catch (err) {
      reject(err);
      return;
    }
    const socket = net.connect(where);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}
