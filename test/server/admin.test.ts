import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adminBase, adminPipe, isAdminPath, listenAdmin, requestAdmin } from '../../server/admin.js';
import { removeDir, tempDir } from '../cert/helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

const posix = process.platform !== 'win32';

describe('admin', () => {
  it('admin - the socket goes in the data directory, or the temporary one when that is too deep; a pipe name has a random part', () => {
    expect(adminBase('/srv/parley', '/tmp')).toBe('/srv/parley');
    const deep = '/' + 'd'.repeat(120);
    expect(adminBase(deep, '/tmp')).toBe('/tmp');
    const pipe = adminPipe('C:\\parley\\data');
    expect(pipe).toMatch(/^\\\\\.\\pipe\\parley-server-[0-9a-f]{16}-[0-9a-f]{16}$/);
    expect(adminPipe('C:\\parley\\data')).not.toBe(pipe);
    expect(adminPipe('C:\\parley\\data', 'ab'.repeat(8))).toBe(adminPipe('C:\\parley\\data', 'ab'.repeat(8)));
  });

  it('admin - admin.path is followed only to a place the server makes its socket', () => {
    const cases: Array<[string, string, NodeJS.Platform, boolean]> = [
      ['/srv/parley', '/srv/parley/parley-admin-Xq3b9Z/admin.sock', 'linux', true],
      ['/srv/parley', path.join(os.tmpdir(), 'parley-admin-Xq3b9Z', 'admin.sock'), 'linux', true],
      ['/srv/parley', '/home/mallory/parley-admin-Xq3b9Z/admin.sock', 'linux', false],
      ['/srv/parley', '/srv/parley/admin.sock', 'linux', false],
      ['/srv/parley', '/srv/parley/parley-admin-Xq3b9Z/other.sock', 'linux', false],
      ['/srv/parley', '/tmp/parley-admin-evil-Xq3b9Z/admin.sock', 'linux', false],
      ['/srv/parley', 'parley-admin-Xq3b9Z/admin.sock', 'linux', false],
      ['C:\\parley\\data', adminPipe('C:\\parley\\data'), 'win32', true],
      ['C:\\parley\\data', adminPipe('C:\\parley\\other'), 'win32', false],
      ['C:\\parley\\data', adminPipe('C:\\parley\\data', 'not-hex-at-all!!'), 'win32', false],
    ];
    for (const [dataDir, where, platform, ok] of cases) expect(isAdminPath(dataDir, where, platform), where).toBe(ok);
  });

  it('admin - a request gets its answer; a bad request and a failing handler get coded refusals', async () => {
    const dir = tempDir('admin');
    dirs.push(dir);
    const admin = await listenAdmin(dir, async (request) => {
      if (request.op === 'stats') return { ok: true, sessions: 3 };
      throw Object.assign(new Error('no such key'), { code: 'SOME_CODE' });
    });
    try {
      await expect(requestAdmin(dir, { op: 'stats' })).resolves.toEqual({ ok: true, sessions: 3 });
      await expect(requestAdmin(dir, { op: 'revoke', keySha256: 'x' })).resolves.toEqual({ ok: false, code: 'SOME_CODE', message: 'no such key' });
      await expect(requestAdmin(dir, { op: 'nothing' } as never)).resolves.toMatchObject({ ok: false, code: 'SERVER_ADMIN_BAD_REQUEST' });
    } finally {
      await admin.close();
    }
    // Stopped: the pointer and the socket's directory are gone.
    await expect(requestAdmin(dir, { op: 'stats' })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it.runIf(posix)('admin - the socket is born in a directory of mode 0700, whatever the umask', async () => {
    const dir = tempDir('admin');
    dirs.push(dir);
    const before = process.umask(0o000);
    let admin;
    try {
      admin = await listenAdmin(dir, async () => ({ ok: true }));
    } finally {
      process.umask(before);
    }
    try {
      const socketDir = path.dirname(admin.path);
      expect(path.dirname(socketDir)).toBe(path.resolve(dir));
      expect(path.basename(socketDir)).toMatch(/^parley-admin-/);
      expect(fs.statSync(socketDir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(admin.path).mode & 0o777).toBe(0o600);
      expect(fs.statSync(admin.path).isSocket()).toBe(true);
      expect(fs.readFileSync(path.join(dir, 'admin.path'), 'utf8').trim()).toBe(admin.path);
    } finally {
      await admin.close();
    }
  });

  it.runIf(posix)('admin - a data directory too deep for a socket path gets a random private directory in the temporary one', async () => {
    const top = tempDir('admin');
    dirs.push(top);
    const deep = path.join(top, 'd'.repeat(100));
    fs.mkdirSync(deep);
    const admin = await listenAdmin(deep, async () => ({ ok: true, deep: true }));
    const socketDir = path.dirname(admin.path);
    try {
      expect(path.dirname(socketDir)).toBe(path.resolve(os.tmpdir()));
      expect(fs.statSync(socketDir).mode & 0o777).toBe(0o700);
      await expect(requestAdmin(deep, { op: 'stats' })).resolves.toEqual({ ok: true, deep: true });
    } finally {
      await admin.close();
    }
    expect(fs.existsSync(socketDir)).toBe(false);
  });

  it.runIf(posix)('admin - what a crashed server left is cleared at the next start', async () => {
    const dir = tempDir('admin');
    dirs.push(dir);
    const stale = fs.mkdtempSync(path.join(dir, 'parley-admin-'));
    fs.writeFileSync(path.join(stale, 'admin.sock'), '');
    fs.writeFileSync(path.join(dir, 'admin.path'), path.join(stale, 'admin.sock') + '\n');
    // A pointer to somewhere else is not followed: that is left alone.
    const elsewhere = tempDir('admin-elsewhere');
    dirs.push(elsewhere);
    expect(path.basename(elsewhere)).toMatch(/^parley-admin-elsewhere-/);
    const admin = await listenAdmin(dir, async () => ({ ok: true }));
    try {
      expect(fs.existsSync(stale)).toBe(false);
      await expect(requestAdmin(dir, { op: 'stats' })).resolves.toEqual({ ok: true });
    } finally {
      await admin.close();
    }
    fs.writeFileSync(path.join(dir, 'admin.path'), path.join(elsewhere, 'admin.sock') + '\n');
    fs.writeFileSync(path.join(elsewhere, 'admin.sock'), '');
    await expect(requestAdmin(dir, { op: 'stats' })).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await listenAdmin(dir, async () => ({ ok: true }));
    await again.close();
    expect(fs.existsSync(path.join(elsewhere, 'admin.sock'))).toBe(true);
  });

  it.runIf(posix)('admin - a socket whose directory is open to others is not talked to', async () => {
    const dir = tempDir('admin');
    dirs.push(dir);
    const admin = await listenAdmin(dir, async () => ({ ok: true }));
    try {
      fs.chmodSync(path.dirname(admin.path), 0o755);
      await expect(requestAdmin(dir, { op: 'stats' })).rejects.toMatchObject({ code: 'SERVER_ADMIN_UNSAFE' });
      fs.chmodSync(path.dirname(admin.path), 0o700);
      await expect(requestAdmin(dir, { op: 'stats' })).resolves.toEqual({ ok: true });
    } finally {
      await admin.close();
    }
  });
});
