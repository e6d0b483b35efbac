// The running server's local admin socket: how `parley server revoke` reaches a server that holds
// its data directory (LevelDB lets one process open the store, so the command cannot append to
// the journal itself while the server runs). One JSON object per line each way: a request, its
// answer (docs/PROTOCOL.md section 11). The socket, private to the operator's account (a socket
// in a 0700 directory beside the data, or a named pipe on Windows), is made by src/net/local.ts.
import type net from 'node:net';
import { connectLocal, isLocalPath, listenLocal, pipeName, readLines, socketBase, type LocalKind } from '../src/net/local.js';

export type AdminRequest = { op: 'revoke'; keySha256: string } | { op: 'stats' };
export type AdminAnswer = { ok: true; [field: string]: unknown } | { ok: false; code: string; message: string };
export type AdminHandler = (request: AdminRequest) => Promise<AdminAnswer>;

// A request or an answer longer than this is not one we make: the peer is dropped.
const MAX_LINE = 16 * 1024;

const ADMIN: LocalKind = {
  dirPrefix: 'parley-admin-',
  socketName: 'admin.sock',
  pointer: 'admin.path',
  pipePrefix: '\\\\.\\pipe\\parley-server-',
  unsafeCode: 'SERVER_ADMIN_UNSAFE',
};

export function adminPipe(dataDir: string, random?: string): string {
  return pipeName(ADMIN, dataDir, random);
}

export function adminBase(dataDir: string, tmp?: string): string {
  return socketBase(ADMIN, dataDir, tmp);
}

export function isAdminPath(dataDir: string, where: string, platform: NodeJS.Platform = process.platform): boolean {
  return isLocalPath(ADMIN, dataDir, where, platform);
}

function isRequest(value: unknown): value is AdminRequest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v.op === 'stats') return true;
  return v.op === 'revoke' && typeof v.keySha256 === 'string';
}

// Starts answering on the admin socket, one answer per request line.
export function listenAdmin(dataDir: string, handle: AdminHandler): Promise<{ path: string; close: () => Promise<void> }> {
  return listenLocal(ADMIN, dataDir, (socket: net.Socket) => {
    readLines(socket, MAX_LINE, (line) => {
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
}

// Sends one request to the server of `dataDir` and resolves with its answer. Rejects with the
// socket error (ENOENT: no pointer or no socket; ECONNREFUSED: no server answers there) or on
// timeout.
export async function requestAdmin(dataDir: string, request: AdminRequest, timeoutMs = 10_000): Promise<AdminAnswer> {
  const socket = await connectLocal(ADMIN, dataDir);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    readLines(socket, MAX_LINE, (line) => {
      clearTimeout(timer);
      socket.end();
      try {
        resolve(JSON.parse(line) as AdminAnswer);
      } catch (err) {
        reject(err);
      }
    });
    socket.write(JSON.stringify(request) + '\n');
  });
}
