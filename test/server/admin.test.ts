import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adminPath, listenAdmin, requestAdmin } from '../../server/admin.js';
import { removeDir, tempDir } from '../cert/helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

describe('admin', () => {
  it('admin - the socket is in the data directory, or a named pipe named after it on Windows', () => {
    expect(adminPath('/srv/parley', 'linux')).toBe('/srv/parley/admin.sock');
    const pipe = adminPath('C:\\parley\\data', 'win32');
    expect(pipe).toMatch(/^\\\\\.\\pipe\\parley-server-[0-9a-f]{16}$/);
    expect(adminPath('C:\\parley\\data', 'win32')).toBe(pipe);
    expect(adminPath('C:\\parley\\other', 'win32')).not.toBe(pipe);
    const deep = '/' + 'd'.repeat(120);
    expect(adminPath(deep, 'linux')).toMatch(/parley-server-[0-9a-f]{16}\.sock$/);
  });

  it('admin - a request gets its answer; a bad request and a failing handler get coded refusals', async () => {
    const dir = tempDir('admin');
    dirs.push(dir);
    // A stale socket file from a crashed server is replaced.
    fs.writeFileSync(path.join(dir, 'admin.sock'), '');
    const admin = await listenAdmin(dir, async (request) => {
      if (request.op === 'stats') return { ok: true, sessions: 3 };
      throw Object.assign(new Error('no such key'), { code: 'SOME_CODE' });
    });
    try {
      expect((fs.statSync(admin.path).mode & 0o777).toString(8)).toBe('600');
      await expect(requestAdmin(dir, { op: 'stats' })).resolves.toEqual({ ok: true, sessions: 3 });
      await expect(requestAdmin(dir, { op: 'revoke', keySha256: 'x' })).resolves.toEqual({ ok: false, code: 'SOME_CODE', message: 'no such key' });
      await expect(requestAdmin(dir, { op: 'nothing' } as never)).resolves.toMatchObject({ ok: false, code: 'SERVER_ADMIN_BAD_REQUEST' });
    } finally {
      await admin.close();
    }
    await expect(requestAdmin(dir, { op: 'stats' })).rejects.toMatchObject({ code: expect.stringMatching(/ENOENT|ECONNREFUSED/) });
  });
});
