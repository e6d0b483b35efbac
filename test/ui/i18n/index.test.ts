// The catalogues: one per language, the same keys (the compiler checks it; this checks that no
// value is left empty or untranslated by mistake), chosen by the language setting.
import { describe, expect, it } from 'vitest';
import { LANGUAGES, languageOf } from '../../../src/projections/settings.js';
import { catalogue } from '../../../src/ui/i18n/index.js';
import { en } from '../../../src/ui/i18n/en.js';
import { ru } from '../../../src/ui/i18n/ru.js';

// Every string a catalogue gives, with sample arguments.
function strings(t: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(t)) {
    if (typeof value === 'string') out[key] = value;
    else if (typeof value === 'function') out[key] = String((value as (...a: unknown[]) => unknown)(2, 'x', 'y', 'z'));
    else if (Array.isArray(value)) out[key] = value.join('\n');
    else for (const [k, v] of Object.entries(value as Record<string, string>)) out[`${key}.${k}`] = v;
  }
  return out;
}

describe('i18n', () => {
  it('i18n - every language has a catalogue, with the same keys as English', () => {
    for (const language of LANGUAGES) expect(Object.keys(strings(catalogue(language)))).toEqual(Object.keys(strings(en)));
  });

  it('i18n - Russian differs from English wherever a word is shown (the prompt and the received status aside)', () => {
    const e = strings(en);
    const r = strings(ru);
    const same = Object.keys(e).filter((k) => e[k] === r[k] && e[k] !== '');
    expect(same).toEqual(['prompt']);
    expect(Object.keys(e).filter((k) => e[k] === '')).toEqual(['status.received']);
  });

  it('i18n - Russian counts in its three forms', () => {
    expect(ru.bye(1, 0)).toContain('1 сообщение и 0 передач');
    expect(ru.bye(2, 3)).toContain('2 сообщения и 3 передачи');
    expect(ru.bye(5, 21)).toContain('5 сообщений и 21 передача');
    expect(en.bye(1, 2)).toContain('1 message and 2 transfers');
    // The packets a message or a file will spend, asked before it goes.
    expect(ru.confirmFile(2, 'Bob')).toContain('займёт 2 пакета вашего');
    expect(ru.confirmMessage(1, 'Bob')).toContain('займёт 1 пакет вашего');
    expect(ru.confirmFile(11, 'Bob')).toContain('займёт 11 пакетов вашего');
    expect(en.confirmFile(1, 'Bob')).toContain('takes 1 packet of');
  });

  it.each([
    [{ LANG: 'ru_RU.UTF-8' }, 'ru'],
    [{ LANG: 'ru' }, 'ru'],
    [{ LANG: 'en_US.UTF-8' }, 'en'],
    [{ LANG: 'C.UTF-8' }, 'en'],
    [{}, 'en'],
    [{ LANG: 'en_US.UTF-8', LC_MESSAGES: 'ru_RU.UTF-8' }, 'ru'],
    [{ LANG: 'ru_RU.UTF-8', LC_ALL: 'C' }, 'en'],
    [{ LANG: 'ru_RU.UTF-8', LC_ALL: '' }, 'ru'],
  ])('i18n - the language of the environment %j is %s', (env, language) => {
    expect(languageOf(env)).toBe(language);
  });
});
