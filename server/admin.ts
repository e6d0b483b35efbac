// The running server's local admin socket: how `parley server revoke` reaches a server that holds
// its data directory (LevelDB lets one process open the store, so the command cannot append to
// the journal itself while the server runs). One JSON object per line each way: a request, its
// answer (docs/PROTOCOL.md section 11).
//
// Only the operator's account may ever connect. On Unix the socket is made inside a directory
// that mkdtemp creates with mode 0700 and a random name, so it is closed to others from the
// moment it exists (a chmod after listen would leave a window with the umask's permissions) and
// no other user can put a socket of their own where the command will look. The data directory's
// `admin.path` says where it is:
//   /srv/parley/parley-admin-Xq3b9Z/admin.sock     (a deep data directory: in the temporary one)
// On Windows, which has no socket files, it is a named pipe, also with a random part in its name
// and also named by `admin.path` (a pipe's default rights let only its creator, the
// administrators and the system write to it, so nobody else can send a request):
//   \\.\pipe\parley-server-3f2a9c0d11e4b5a6-9e0c44f2a1b37d58
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export type AdminRequest = { op: 'revoke'; keySha256: string } | { op: 'stats' };
export type AdminAnswer = { ok: true; [field: string]: unknown } | { ok: false; code: string; message: string };
export type AdminHandler = (request: AdminRequest) => Promise<AdminAnswer>;

// A request or an answer longer than this is not one we make: the peer is dropped.
const MAX_LINE = 16 * 1024;
// Unix socket paths are limited to about 104 bytes (macOS) to 108 (Linux).
const MAX_SOCKET_PATH = 100;
const DIR_PREFIX = 'parley-admin-';
const SOCKET_NAME = 'admin.sock';
// The file in the data directory that names the socket of the running server.
const POINTER = 'admin.path';

function dirHash(dataDir: string): string {
  return createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
}

const PIPE_PREFIX = '\\\\.\\pipe\\parley-server-';

// => '\\.\pipe\parley-server-3f2a9c0d11e4b5a6-9e0c44f2a1b37d58': the data directory's hash, so an
// operator can tell whose it is, and a random part, so nobody can make it first.
export function adminPipe(dataDir: string, random: string = randomBytes(8).toString('hex')): string {
  return `${PIPE_PREFIX}${dirHash(dataDir)}-${random}`;
}

// Where the private directory goes: the data directory, unless the socket's path would be too
// long there. => '/srv/parley'
export function adminBase(dataDir: string, tmp: string = os.tmpdir()): string {
  const inDir = path.resolve(dataDir);
  const longest = path.join(inDir, DIR_PREFIX + 'XXXXXX', SOCKET_NAME);
  return Buffer.byteLength(longest) <= MAX_SOCKET_PATH ? inDir : tmp;
}

function pointerFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), POINTER);
}

// A path that a pointer may name: on Windows this data directory's pipe; elsewhere a socket in a
// parley-admin-* directory of one of the two places the server makes them. Anything else in the
// file is not ours to follow or delete.
export function isAdminPath(dataDir: string, where: string, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'win32') return /^[0-9a-f]{16}$/.test(where.slice(-16)) && where === adminPipe(dataDir, where.slice(-16));
  const dir = path.dirname(where);
  const parent = path.dirname(dir);
  return (
    path.isAbsolute(where) &&
    path.basename(where) === SOCKET_NAME &&
    /^[A-Za-z0-9]{6}$/.test(path.basename(dir).slice(DIR_PREFIX.length)) &&
    path.basename(dir).length === DIR_PREFIX.length + 6 &&
    (parent === path.resolve(dataDir) || parent === path.resolve(os.tmpdir()))
  );
}

// Before a request goes out: the socket's directory is still the private one the server made
// (a directory, closed to others, of the pointer's owner), not one someone put in its place in
// the temporary directory after a crash and a reboot. Throws with code SERVER_ADMIN_UNSAFE.
function checkPrivate(dataDir: string, where: string): void {
  if (process.platform === 'win32') return;
  const owner = fs.statSync(pointerFile(dataDir)).uid;
  let st: fs.Stats | null = null;
  try {
    st = fs.lstatSync(path.dirname(where));
  } catch {
    // missing: connect says ENOENT
  }
  if (st && (!st.isDirectory() || (st.mode & 0o077) !== 0 || st.uid !== owner)) {
    throw Object.assign(new Error(`${path.dirname(where)} is not the server's private directory`), { code: 'SERVER_ADMIN_UNSAFE' });
  }
}

// The socket the pointer names, or null when there is none (no server ran, or it stopped).
function readPointer(dataDir: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(pointerFile(dataDir), 'utf8').trim();
  } catch {
    return null;
  }
  return isAdminPath(dataDir, text) ? text : null;
}

// A crashed server's directory and pointer. Only a directory that is ours: the caller holds the
// data directory's journal lock, so no live server uses it.
function removeStale(dataDir: string): void {
  const old = readPointer(dataDir);
  if (old && process.platform !== 'win32') {
    const dir = path.dirname(old);
    try {
      const st = fs.lstatSync(dir);
      if (st.isDirectory() && (typeof process.getuid !== 'function' || st.uid === process.getuid())) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // gone already (a temporary directory cleaned at boot)
    }
  }
  fs.rmSync(pointerFile(dataDir), { force: true });
}

function isRequest(value: unknown): value is AdminRequest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v.op === 'stats') return true;
  return v.op === 'revoke' && typeof v.keySha256 === 'string';
}

// Reads newline-ended lines from a socket, bounded; calls onLine for each.
function lines(socket: net.Socket, onLine: (line: string) => void): void {
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
    if (buffered.length > MAX_LINE) socket.destroy();
  });
}

// Starts answering on the admin socket. The caller holds the data directory's journal lock, so a
// socket directory and pointer left by a crashed server are stale and are removed first.
export async function listenAdmin(dataDir: string, handle: AdminHandler): Promise<{ path: string; close: () => Promise<void> }> {
  const windows = process.platform === 'win32';
  let dir: string | null = null;
  let where: string;
  removeStale(dataDir);
  if (windows) {
    where = adminPipe(dataDir);
  } else {
    // mkdtemp makes the directory with mode 0700 whatever the umask, under a name not known
    // before: no other user can reach a socket inside it, nor prepare one there.
    dir = fs.mkdtempSync(path.join(adminBase(dataDir), DIR_PREFIX));
    where = path.join(dir, SOCKET_NAME);
  }
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    lines(socket, (line) => {
      let request: unknown;
      try {
        request = JSON.parse(line);
      } catch {
        request = null;
      }
      const answer: Promise<AdminAnswer> = isRequest(request)
        ? handle(request).catch((err: Error & { code?: string }) => ({ ok: false as const, code: err.code ?? 'SERVER_ADMIN_FAILED', message: err.message }))
        : Promise.resolve({ ok: false as const, code: 'SERVER_ADMIN_BAD_REQUEST', message: 'not a request this server knows' });
      void answer.then((a) => {
        if (!socket.destroyed) socket.write(JSON.stringify(a) + '\n');
      });
    });
  });
  const removeDir = (): void => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
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
    const pointer = pointerFile(dataDir);
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
          if (readPointer(dataDir) === where) fs.rmSync(pointerFile(dataDir), { force: true });
          removeDir();
          resolve();
        });
      }),
  };
}

// Sends one request to the server of `dataDir` and resolves with its answer. Rejects with the
// socket error (ENOENT: no pointer or no socket; ECONNREFUSED: no server answers there) or on
// timeout.
export function requestAdmin(dataDir: string, request: AdminRequest, timeoutMs = 10_000): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const where = readPointer(dataDir);
    if (where === null) {
      reject(Object.assign(new Error(`${pointerFile(dataDir)} names no admin socket`), { code: 'ENOENT' }));
      return;
    }
    try {
      checkPrivate(dataDir, where);
    } catch (err) {
      reject(err);
      return;
    }
    const socket = net.connect(where);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
    lines(socket, (line) => {
      clearTimeout(timer);
      socket.end();
      try {
        resolve(JSON.parse(line) as AdminAnswer);
      } catch (err) {
        reject(err);
      }
    });
  });
}
