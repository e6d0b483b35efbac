// The running server's local admin socket: how `parley server revoke` reaches a server that holds
// its data directory (LevelDB lets one process open the store, so the command cannot append to
// the journal itself while the server runs). A Unix socket in the data directory, or on Windows a
// named pipe named after the directory, since Windows has no socket files:
//   /srv/parley/admin.sock            \\.\pipe\parley-server-3f2a9c0d11e4b5a6
// One JSON object per line each way: a request, its answer. Only the operator's account can
// reach it: the socket file is made 0600 (a named pipe is the creating user's by default).
import { createHash } from 'node:crypto';
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

function dirHash(dataDir: string): string {
  return createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
}

// => '/srv/parley/admin.sock'; a data directory too deep for a socket path gets one in the
// temporary directory, named after it, which both the server and the command compute the same.
export function adminPath(dataDir: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return `\\\\.\\pipe\\parley-server-${dirHash(dataDir)}`;
  const inDir = path.join(path.resolve(dataDir), 'admin.sock');
  if (Buffer.byteLength(inDir) <= MAX_SOCKET_PATH) return inDir;
  return path.join(os.tmpdir(), `parley-server-${dirHash(dataDir)}.sock`);
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
// socket file left by a crashed server is stale and is removed first.
export async function listenAdmin(dataDir: string, handle: AdminHandler): Promise<{ path: string; close: () => Promise<void> }> {
  const where = adminPath(dataDir);
  if (process.platform !== 'win32') fs.rmSync(where, { force: true });
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  if (process.platform !== 'win32') fs.chmodSync(where, 0o600);
  return {
    path: where,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// Sends one request to the server of `dataDir` and resolves with its answer. Rejects with the
// socket error (ENOENT, ECONNREFUSED: no server answers there) or on timeout.
export function requestAdmin(dataDir: string, request: AdminRequest, timeoutMs = 10_000): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(adminPath(dataDir));
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
