// Settings: the last value given to each key (language, download folder, ...).
//
// The projection keeps whatever the journal says, keys and values alike; what a key means, its
// default and the values it takes are the table below, so that `parley settings` and the client
// read the same thing through settingsOf(state).
import path from 'node:path';
import { badInput } from '../errors.js';
import type { NewOf } from '../events/schema.js';
import type { SettingsChanged, Stored } from '../events/types.js';
import type { Projection } from './projection.js';

export type SettingValue = string | number | boolean;
export type SettingsState = Record<string, SettingValue>;

export const settings: Projection<SettingsState> = {
  name: 'settings',
  version: 1,
  initial: () => ({}),
  apply(state, event: Stored) {
    if (event.type === 'settings.changed') state[event.key] = event.value;
    return state;
  },
};

// ---- the keys a person may set ----

// Every key with its value, defaults filled in: what the client reads.
export type Settings = {
  language: Language;
  // Announce this client on the LAN and listen for others (src/net/discovery.ts); off on networks
  // one does not trust.
  'lan-discovery': boolean;
  'default-quota-messages': number;
  'default-quota-files': number;
  notify: boolean;
  'auto-accept-files': boolean;
  // An absolute folder, or null for the default: <home>/downloads (downloadsPath).
  downloads: string | null;
  // Where the client listens for peer links: 0 until the first start takes a free port and keeps
  // it here (src/node/routes.ts listenKept); set it for a port forwarded on a router.
  'listen-port': number;
  // The UI's (issue 12): mouse wheel scrolling, and every message shown as its bytes too.
  mouse: boolean;
  'show-bits': boolean;
};
export type SettingKey = keyof Settings;

// The languages the UI speaks: each has its catalogue in src/ui/i18n (a compile error there
// when one is missing).
export const LANGUAGES = ['en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];

// The language of a profile that never set one: the environment's, read as POSIX programs read
// it (LC_ALL, then LC_MESSAGES, then LANG; the first that is set), Russian when it starts with
// "ru", else English. => 'ru' for LANG=ru_RU.UTF-8, 'en' for LANG=C.UTF-8 or none
export function languageOf(env: NodeJS.ProcessEnv): Language {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return locale.toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

// The most a quota setting may hold: the most `parley limits grant` grants at once, so that a
// default grant is always one that could have been typed.
export const MAX_QUOTA_SETTING = 1e12;

type Rule = {
  // null: a default that depends on the profile (the downloads folder is in it).
  fallback: SettingValue | null;
  // A default that depends on the environment of the process that reads it (the language).
  fromEnv?: (env: NodeJS.ProcessEnv) => SettingValue;
  // What the key takes, for the error message: "en or ru".
  takes: string;
  // The value as journaled, from what a person typed; undefined when the key does not take it.
  // `resolve` makes a relative path absolute (from the caller's working directory).
  parse: (text: string, resolve: (file: string) => string) => SettingValue | undefined;
  // Whether a journaled value is one this key takes. A journal may hold anything another
  // version of Parley (or a hand) wrote, and such a value reads as the default.
  valid: (value: SettingValue) => boolean;
  // How the value is printed: as a person types it (on/off), numbers as numbers for JSON, a
  // default folder as the folder it is in the profile `home`.
  shown: (value: SettingValue | null, home: string) => string | number;
};

function oneOf(words: string[], fallback: string): Rule {
  return {
    fallback,
    takes: words.join(' or '),
    parse: (text) => (words.includes(text) ? text : undefined),
    valid: (value) => typeof value === 'string' && words.includes(value),
    shown: (value) => String(value),
  };
}

function count(fallback: number): Rule {
  const valid = (value: SettingValue) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_QUOTA_SETTING;
  return {
    fallback,
    takes: `a whole number from 0 to ${MAX_QUOTA_SETTING}`,
    // Digits only: no sign, point, exponent or hex, which Number() would take.
    parse: (text) => (/^[0-9]+$/.test(text) && valid(Number(text)) ? Number(text) : undefined),
    valid,
    shown: (value) => value as number,
  };
}

// A TCP port; 0: any free one.
function port(): Rule {
  const valid = (value: SettingValue) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= 65535;
  return {
    fallback: 0,
    takes: 'a port, a whole number from 0 (any free one) to 65535',
    parse: (text) => (/^[0-9]+$/.test(text) && valid(Number(text)) ? Number(text) : undefined),
    valid,
    shown: (value) => value as number,
  };
}

// Journaled as a boolean, which is what the client tests; shown as the words a person types.
function onOff(fallback: boolean): Rule {
  return {
    fallback,
    takes: 'on or off',
    parse: (text) => (text === 'on' ? true : text === 'off' ? false : undefined),
    valid: (value) => typeof value === 'boolean',
    shown: (value) => (value ? 'on' : 'off'),
  };
}

// A folder, journaled absolute: a relative one is the caller's (resolved where the command was
// typed), and the client that reads it later runs elsewhere. Control characters are refused, as
// in names (a newline in a path is legal on Linux, but would forge a line wherever it is shown).
function folder(inHome: string): Rule {
  // eslint-disable-next-line no-control-regex
  const valid = (value: SettingValue) => typeof value === 'string' && path.isAbsolute(value) && !/[\u0000-\u001f\u007f-\u009f]/.test(value);
  return {
    fallback: null,
    takes: `a folder (default: ${inHome} in the profile)`,
    parse: (text, resolve) => {
      if (text.trim().length === 0) return undefined;
      const value = resolve(text);
      return valid(value) ? value : undefined;
    },
    valid,
    shown: (value, home) => (value === null ? path.join(home, inHome) : String(value)),
  };
}

// The default downloads folder, in the profile.
export const DEFAULT_DOWNLOADS = 'downloads';

// In the order `parley settings` lists them.
const RULES: Record<SettingKey, Rule> = {
  // Default: the environment's (languageOf).
  language: { ...oneOf([...LANGUAGES], 'en'), fromEnv: languageOf },
  'lan-discovery': onOff(true),
  'default-quota-messages': count(1000),
  'default-quota-files': count(1000),
  notify: onOff(true),
  // Off: a file written to the disk without being asked for is a risk (a full disk, a file
  // that looks like another). On, offers from whitelisted contacts are accepted as they come
  // (issue 11), still within the file packets granted them and with names checked.
  'auto-accept-files': onOff(false),
  downloads: folder(DEFAULT_DOWNLOADS),
  'listen-port': port(),
  // Off: while a terminal reports the mouse to the program, the terminal's own selection (to
  // copy a message's text) does not work; scrolling by keys always does.
  mouse: onOff(false),
  // Off: the teaching view (a message as the bytes of its frame, in binary and hex, and the TLS
  // records that carried it) is for those who ask for it; it fills the chat pane otherwise.
  'show-bits': onOff(false),
};

// The absolute downloads folder: the one set, or <home>/downloads. Only the path: the writer
// creates it (node/downloads.ts).
export function downloadsPath(s: Settings, home: string): string {
  return s.downloads ?? path.join(home, DEFAULT_DOWNLOADS);
}

export const SETTING_KEYS = Object.keys(RULES) as SettingKey[];

// What each key takes, for help: "language: en or ru; ...".
export function settingValuesHelp(): string {
  return SETTING_KEYS.map((key) => `${key}: ${RULES[key].takes}`).join('; ');
}

// Own keys only: "toString" or "__proto__" is no setting.
export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(RULES, key);
}

// `env`: where a default that depends on the environment is read (the language).
export function settingsOf(state: SettingsState, env: NodeJS.ProcessEnv = process.env): Settings {
  const out: Record<string, SettingValue | null> = {};
  for (const key of SETTING_KEYS) {
    const rule = RULES[key];
    const value = Object.hasOwn(state, key) ? state[key] : undefined;
    out[key] = value !== undefined && rule.valid(value) ? value : rule.fromEnv ? rule.fromEnv(env) : rule.fallback;
  }
  return out as Settings;
}

// The settings as printed: `parley settings --json` prints this object, the text form one
// `key value` line per key.
// `home`: the profile, where the default downloads folder is.
export function shownSettings(s: Settings, home: string): Record<SettingKey, string | number> {
  const out = {} as Record<SettingKey, string | number>;
  for (const key of SETTING_KEYS) out[key] = RULES[key].shown(s[key], home);
  return out;
}

// A typed text in an error message: quoted, cut, and with control characters escaped, so that
// the message stays one line that cannot rewrite the terminal.
function quoted(text: string): string {
  const cut = text.length > 40 ? text.slice(0, 40) + '...' : text;
  // eslint-disable-next-line no-control-regex
  const escaped = cut.replace(/["\\]/g, '\\$&').replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return `"${escaped}"`;
}

// A key and value as a person typed them, checked: exit 2 for an unknown key or a bad value.
// `resolve` makes a relative folder absolute; the command passes the caller's (commands/io.ts).
export function parseSetting(key: string, text: string, resolve: (file: string) => string = (file) => file): { key: SettingKey; value: SettingValue } {
  if (!isSettingKey(key)) {
    throw badInput('UNKNOWN_SETTING', `unknown setting ${quoted(key)}: the settings are ${SETTING_KEYS.join(', ')}`);
  }
  const rule = RULES[key];
  const value = rule.parse(text, resolve);
  if (value === undefined) throw badInput('BAD_SETTING', `${key} must be ${rule.takes}, got ${quoted(text)}`);
  return { key, value };
}

// decide: the event that sets `key` to `value`, or null when that is its value already (the
// default counts), so that setting a value twice journals it once. A default read from the
// environment does not count: set, the value holds whatever the environment says later.
export function decideSetting(state: SettingsState, key: SettingKey, value: SettingValue, env: NodeJS.ProcessEnv = process.env): NewOf<SettingsChanged> | null {
  const fixed = Object.hasOwn(state, key) || RULES[key].fromEnv === undefined;
  if (fixed && settingsOf(state, env)[key] === value) return null;
  return { type: 'settings.changed', key, value };
}
