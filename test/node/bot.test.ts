import { describe, expect, it } from 'vitest';
import { MAX_TEXT_BYTES } from '../../src/net/chat.js';
import { echoOf, startEchoBot } from '../../src/node/bot.js';
import { openProfile } from '../../src/node/profile.js';
import { tempHome } from '../helpers/cli.js';

describe('bot', () => {
  it('bot - echoOf: the prefix and the text, cut to one message when it would be longer', () => {
    expect(echoOf('hi')).toBe('echo: hi');
    expect(echoOf('Привет 👋')).toBe('echo: Привет 👋');
    const long = echoOf('я'.repeat(MAX_TEXT_BYTES / 2));
    expect(long.startsWith('echo: яя')).toBe(true);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_TEXT_BYTES);
  });

  it('bot - each message received is answered by a send then a read, in the order they came; nothing else is; stopped, it answers no more', async () => {
    const profile = await openProfile(tempHome('bot'));
    const runs: string[][] = [];
    const failures: string[] = [];
    try {
      const bot = startEchoBot({
        profile,
        // A slow first answer: the second must still come after it.
        run: async (argv, io) => {
          if (runs.length === 0) await new Promise((r) => setTimeout(r, 50));
          runs.push(argv);
          if (argv[0] === 'read') io.stderr.write('no such peer\n');
          return argv[0] === 'read' ? 4 : 0;
        },
        log: (line) => failures.push(line),
      });
      await profile.appendMany([
        { type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true },
        { type: 'message.received', id: 'r1', peer: 7, text: 'one', sentAt: 1 },
        { type: 'message.sent', id: 'm1', peer: 7, text: 'mine', packets: 1 },
        { type: 'message.received', id: 'r2', peer: 7, text: 'two', sentAt: 2 },
      ]);
      const end = Date.now() + 5000;
      while (runs.length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      await bot.stop();
      expect(runs).toEqual([
        ['send', '--to', '7', '--yes', '--', 'echo: one'],
        ['read', '--peer', '7'],
        ['send', '--to', '7', '--yes', '--', 'echo: two'],
        ['read', '--peer', '7'],
      ]);
      // A command that fails is named, with what it said.
      expect(failures).toEqual([expect.stringContaining('read ended with 4: no such peer'), expect.stringContaining('read ended with 4: no such peer')]);
      await profile.append({ type: 'message.received', id: 'r3', peer: 7, text: 'three', sentAt: 3 });
      expect(runs).toHaveLength(4);
    } finally {
      await profile.close();
    }
  });
});
