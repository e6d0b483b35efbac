// The program as a whole: where --home may stand, what a wrong profile folder says, a reader
// that goes away, and the default profile.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLI, runParley, tempHome } from './helpers/cli.js';

describe('cli', () => {
  test('cli - --home may stand before the command, after a group, or on the leaf', async () => {
    const home = tempHome();
    expect((await runParley(['--home', home, 'contacts', 'add', '5', '--name', 'Ann'])).code).toBe(0);
    const before = await runParley(['--home', home, 'contacts', '--json']);
    expect(before.stdout).toContain('"name":"Ann"');
    const group = await runParley(['journal', '--home', home, 'inspect', '--json']);
    expect(group.code, group.stderr).toBe(0);
    expect(group.stdout).toContain('contact.added');
    const leaf = await runParley(['journal', 'inspect', '--home', home, '--json']);
    expect(leaf.stdout).toBe(group.stdout);
  });

  test('cli - a profile path that is a file is bad input, exit 2, one line', async () => {
    const file = path.join(tempHome(), 'not-a-folder');
    fs.writeFileSync(file, 'x');
    for (const args of [['contacts'], ['contacts', 'add', '5', '--name', 'A'], ['journal', 'inspect']]) {
      const r = await runParley(args, { home: file });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(`parley: the profile ${file} is a file, not a folder: choose another --home\n`);
    }
  });

  test('cli - reading a folder that holds no profile creates nothing', async () => {
    const home = path.join(tempHome(), 'typo');
    for (const args of [['contacts', '--json'], ['limits', '--json'], ['limits', 'audit', '--json'], ['journal', 'inspect', '--json'], ['journal', 'rebuild']]) {
      const r = await runParley(args, { home });
      expect(r.code, args.join(' ')).toBe(0);
    }
    expect(fs.existsSync(home)).toBe(false);
  });

  test('cli - a reader that goes away (| head -1) ends the command quietly', async () => {
    const home = tempHome();
    expect((await runParley(['contacts', 'add', '5', '--name', 'Ann'], { home })).code).toBe(0);
    for (let i = 0; i < 3; i++) expect((await runParley(['limits', 'grant', '--peer', '5', '--messages', '1'], { home })).code).toBe(0);
    // The child's stdout is a pipe whose reader is gone before the command writes.
    const child = spawn(process.execPath, [CLI, 'journal', 'inspect', '--json', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(code).toBe(0);
  });

  test('cli - without --home or PARLEY_HOME the profile is ~/.parley (HOME decides)', async () => {
    const fakeHome = tempHome();
    const r = await runParley(['contacts', 'add', '5', '--name', 'Ann'], { env: { HOME: fakeHome, USERPROFILE: fakeHome } });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(fakeHome, '.parley', 'journal'))).toBe(true);
  });
});
