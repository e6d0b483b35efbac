// One profile, one process: while a client holds a profile, every command on it says so in one
// line and exits 3 (never a LevelDB stack trace), writes nothing, and works once the client is gone.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { jsonLines, lines, runParley, startScript, tempHome, type RunResult } from '../helpers/cli.js';

const HOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'holder.mjs');

function expectBusy(r: RunResult, home: string, what: string): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(3);
  expect(r.stdout, what).toBe('');
  expect(lines(r.stderr), what).toHaveLength(1);
  expect(r.stderr, what).toContain(`profile ${home} is in use by another Parley`);
  expect(r.stderr, what).not.toMatch(/\bat .*:\d+:\d+|LEVEL_|Error:/);
}

describe('profile-lock', () => {
  test('profile-lock - a command on a profile another process holds exits 3 with one line, then works once it is released', async () => {
    const home = tempHome('lock');
    const added = await runParley(['contacts', 'add', '5', '--name', 'Ann'], { home });
    expect(added.code, added.stderr).toBe(0);
    const before = (await runParley(['journal', 'inspect', '--json'], { home })).stdout;

    const holder = startScript(HOLDER, [home]);
    try {
      await holder.waitForLine((l) => l === 'ready', 20_000);

      const contacts = await runParley(['contacts'], { home });
      expectBusy(contacts, home, 'contacts');
      expect(contacts.stderr).toBe(`parley: profile ${home} is in use by another Parley\n`);

      // Every command of the profile, with --home and with PARLEY_HOME; none may write.
      const commands = [
        ['contacts', '--json'],
        ['contacts', 'add', '6', '--name', 'Bo'],
        ['limits', '--json'],
        ['limits', 'grant', '--peer', '5', '--messages', '3'],
        ['limits', 'audit', '--json'],
        ['history', '--peer', '5', '--json'],
        ['history', 'export', '--peer', '5', '--format', 'csv'],
        ['history', 'clear', '--peer', '5'],
        ['journal', 'inspect', '--json'],
        ['journal', 'rebuild'],
      ];
      const viaHome = await Promise.all(commands.map((args) => runParley(args, { home })));
      viaHome.forEach((r, i) => expectBusy(r, home, commands[i].join(' ')));
      const viaEnv = await Promise.all(commands.map((args) => runParley(args, { env: { PARLEY_HOME: home } })));
      viaEnv.forEach((r, i) => expectBusy(r, home, `PARLEY_HOME ${commands[i].join(' ')}`));
    } finally {
      holder.child.stdin.end();
    }
    await holder.waitForLine((l) => l === 'closed', 20_000);
    expect(await holder.exited).toEqual({ code: 0, signal: null });

    // Released: the commands work, and nothing was written while it was held.
    expect((await runParley(['journal', 'inspect', '--json'], { home })).stdout).toBe(before);
    const after = await runParley(['contacts', '--json'], { home });
    expect(after.code, after.stderr).toBe(0);
    expect(jsonLines(after.stdout)).toEqual([{ id: 5, name: 'Ann', folder: 'main', whitelisted: true, blocked: false }]);
    const add = await runParley(['contacts', 'add', '6', '--name', 'Bo', '--json'], { home });
    expect(add.code, add.stderr).toBe(0);
  });

  test('profile-lock - a holder killed with SIGKILL leaves no stale lock', async () => {
    const home = tempHome('lock-kill');
    const holder = startScript(HOLDER, [home]);
    await holder.waitForLine((l) => l === 'ready', 20_000);
    expectBusy(await runParley(['contacts'], { home }), home, 'contacts');
    holder.child.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    const r = await runParley(['contacts', '--json'], { home });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });
});
