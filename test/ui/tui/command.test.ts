// `parley` with no command opens the screen (src/commands/ui.ts); the root action must not eat
// what the program did before: help, and an error for a word that is no command.
import { describe, expect, it } from 'vitest';
import { runParley, tempHome } from '../../helpers/cli.js';

describe('parley without a command', () => {
  it('parley - help is still help, an unknown word still an error (exit 2), no terminal exit 2', async () => {
    const help = await runParley(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: parley [options] [command]');
    const frob = await runParley(['frob']);
    expect(frob.code).toBe(2);
    expect(frob.stderr).toBe("error: unknown command 'frob'\n");
    const piped = await runParley([], { home: tempHome(), env: { LANG: 'C.UTF-8', LC_ALL: undefined, LC_MESSAGES: undefined } });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toBe('parley: the screen needs a terminal. Without one, use the line mode (parley console) or the commands (parley --help).\n');
  });
});
