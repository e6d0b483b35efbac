// `parley demo` on its screen (issue 12), in a real terminal (tmux, test/helpers/demo-screens.mjs):
// the bot shown online; a file and "hello" sent, "echo: hello" shown; the files and the keys
// views; the language switched to Russian on the settings screen, every screen then in Russian,
// and back to English; Ctrl+C ends it with 0 and nothing left running. Started again on the same
// folder, the same ids and the chat; the window closed under it, the same clean stop, and no
// abort of Node 20 on the gone terminal (nodejs/node#51519). `npm run screens` makes the
// captures in docs/screens/ from the same tour. Skipped where tmux is missing, except in CI.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { en } from '../../src/ui/i18n/en.js';
import { tempHome } from '../helpers/cli.js';
import { hasTmux, idsOn, LANGS, openDemo, SCREENS, tour } from '../helpers/demo-screens.mjs';

const inCi = (process.env.CI ?? '') !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

function clientPointers(dir: string): string[] {
  return ['user', 'bot'].filter((p) => fs.existsSync(path.join(dir, p, 'client.path')));
}

// What Node 20 prints when it aborts at exit on a terminal that is gone.
const ABORT = /Assertion failed|Native stack trace/;

describe.skipIf(!hasTmux() && !inCi)('demo on its screen in a terminal', () => {
  it('demo - the bot online, "hello" echoed, the screens in English and Russian, Ctrl+C ends with 0; again on the same folder, a closed window stops everything without an abort', async () => {
    const work = tempHome('demo-tui');
    const demo = await openDemo({ work });
    const shown: Record<string, string> = {};
    try {
      await tour(demo, { work, onScreen: (name: string, lang: string, text: string) => (shown[`${name}.${lang}`] = text) });
      expect(Object.keys(shown).sort()).toEqual(SCREENS.flatMap((s: string) => LANGS.map((l: string) => `${s}.${l}`)).sort());
      // As a person reads them, in each language.
      expect(shown['chat.en']).toMatch(/Echo bot\s+online/);
      expect(shown['chat.en']).toContain('echo: hello');
      expect(shown['chat.ru']).toMatch(/Echo bot\s+в сети/);
      expect(shown['chat.ru']).toContain('Enter отправить');
      expect(shown['settings.en']).toContain('▶ Language: English');
      expect(shown['settings.ru']).toContain('▶ Язык: русский');
      expect(shown['files.en']).toMatch(/notes\.txt .* completed/);
      expect(shown['files.ru']).toMatch(/notes\.txt .* готово/);
      expect(shown['keys.ru']).toContain('Клавиши');
      const ids = idsOn(shown['chat.en']);
      expect(ids.user).not.toBeNull();
      expect(ids.bot).not.toBeNull();

      demo.keys('C-c');
      await demo.said(en.bye(0, 0));
      expect(await demo.ended()).toBe(0);
      // tmux's server names the folder too (its command line is the first client's).
      demo.closeWindow();
      await demo.gone();
      expect(clientPointers(demo.dir)).toEqual([]);
      expect(demo.stderr()).not.toMatch(ABORT);

      // Again on the same folder: the same ids, the chat kept. Then the window closed under it.
      const again = await openDemo({ work });
      try {
        const screen = await again.shows('echo: hello', 'the chat kept');
        expect(idsOn(screen)).toEqual(ids);
        again.closeWindow();
        await again.gone();
        expect(clientPointers(again.dir)).toEqual([]);
        expect(again.stderr()).not.toMatch(ABORT);
      } finally {
        await again.close();
      }
    } finally {
      await demo.close();
    }
  }, 120_000);
});
