// The downloads folder: the one set or <home>/downloads, made when missing, refused when a file
// is in the way.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { downloadsDir } from '../../src/node/downloads.js';
import { settingsOf } from '../../src/projections/settings.js';
import { tempHome } from '../helpers/cli.js';

describe('downloads', () => {
  it('downloads - the default is <home>/downloads, made when missing', async () => {
    const home = tempHome('dl');
    const dir = await downloadsDir(settingsOf({}), home);
    expect(dir).toBe(path.join(home, 'downloads'));
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    // Again: it is there already.
    expect(await downloadsDir(settingsOf({}), home)).toBe(dir);
  });

  it('downloads - the folder set is made with its parents', async () => {
    const home = tempHome('dl');
    const set = path.join(home, 'a', 'b', 'in');
    expect(await downloadsDir(settingsOf({ downloads: set }), home)).toBe(set);
    expect(fs.statSync(set).isDirectory()).toBe(true);
  });

  it.each([
    ['a file at its place', (home: string) => path.join(home, 'f')],
    ['a file above it', (home: string) => path.join(home, 'f', 'in')],
  ])('downloads - %s: DOWNLOADS_UNUSABLE, exit 2', async (_what, folder) => {
    const home = tempHome('dl');
    fs.writeFileSync(path.join(home, 'f'), '');
    await expect(downloadsDir(settingsOf({ downloads: folder(home) }), home)).rejects.toMatchObject({ code: 'DOWNLOADS_UNUSABLE', exitCode: 2 });
  });
});
