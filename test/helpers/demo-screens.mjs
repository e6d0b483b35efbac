// `parley demo` on its screen (the Ink UI) in a real pseudo-terminal: tmux on a socket of its own,
// a fixed size, CI unset (ink draws nothing until exit when CI is set), the built dist/ run.
// One tour of the main screens in both languages, used by the end-to-end test
// (test/e2e/demo-tui.test.ts), which checks each step, and by `npm run screens`
// (scripts/screens.mjs), which writes what each step showed to docs/screens/.
//
// Plain JavaScript, not TypeScript: the script runs on Node alone, against dist/, as bench/*.mjs
// do. Every wait is for the pane's text (or /proc, or tmux's word on the pane), polled every
// 100 ms with a bound; a wait that fails says what the pane last showed.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');

// The demo's fixed names (src/node/demo.ts BOT_NAME) and the screens the tour shows.
export const BOT = 'Echo bot';
export const SCREENS = ['chat', 'settings', 'files', 'keys'];
export const LANGS = ['en', 'ru'];

export const hasTmux = () => spawnSync('tmux', ['-V']).status === 0;

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The string catalogues the screen speaks (src/ui/i18n), from the build the demo runs.
async function catalogues() {
  const { catalogue } = await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'ui', 'i18n', 'index.js')).href);
  return { en: catalogue('en'), ru: catalogue('ru') };
}

// Linux only (/proc): the processes whose command line names `dir` (the demo and any child).
export function processesNaming(dir) {
  const out = [];
  if (!fs.existsSync('/proc/self/stat')) return out;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

// Resolves once check() is true, asked at most every 100 ms; rejects after `ms` with what
// `detail()` says then.
async function poll(check, what, ms, detail = () => '') {
  const end = Date.now() + ms;
  for (;;) {
    if (check()) return;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms${detail()}`);
    await pause(100);
  }
}

let opened = 0;

/**
 * Starts `parley demo --home WORK/demo` in a new tmux server, its standard error (what the demo
 * says before and after the screen) to WORK/stderr.log, and resolves once the screen shows the
 * bot online. `work` is an empty folder of the caller's, who removes it.
 */
export async function openDemo({ work, columns = 100, rows = 30, startMs = 60_000 }) {
  const dir = path.join(work, 'demo');
  const stderrFile = path.join(work, 'stderr.log');
  // The server's socket in `work`, removed with it (tmux leaves it behind on kill-server).
  const socket = path.join(work, `tmux-${++opened}.sock`);
  const tmux = (...args) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
  const quiet = (...args) => spawnSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' }).stdout ?? '';
  // Run by the window's shell, which writes parley's exit status once it ends (tmux's own word
  // on a dead pane's status was, here, sometimes not given within 20 s). When the window
  // closes, the shell gets the SIGHUP and dies of it, and parley, in the terminal's foreground,
  // gets one too, as under a terminal emulator. LC_ALL and TZ fixed: English at first whatever
  // the caller's locale, and the times in UTC.
  const codeFile = path.join(work, 'exit-code');
  fs.rmSync(codeFile, { force: true });
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = `cd ${q(ROOT)} && env -u CI -u LC_MESSAGES LC_ALL=C.UTF-8 LANG=C.UTF-8 TZ=UTC ${q(process.execPath)} ${q(CLI)} demo --home ${q(dir)} 2>>${q(stderrFile)}; echo $? > ${q(codeFile)}`;
  // No configuration file (the person's own .tmux.conf changes nothing); the pane kept after
  // parley ends, so that its last words can be read.
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'demo', '-x', String(columns), '-y', String(rows), command, ';', 'set-option', '-p', 'remain-on-exit', 'on');

  const screen = () => quiet('capture-pane', '-p', '-t', 'demo');
  // The normal screen with what scrolled above it: when parley ends, tmux writes "Pane is dead"
  // on a new last row, which scrolls the window's top line (the goodbye) away.
  const scrollback = () => quiet('capture-pane', '-p', '-S', '-', '-t', 'demo');
  const stderr = () => (fs.existsSync(stderrFile) ? fs.readFileSync(stderrFile, 'utf8') : '');
  // What the demo's server and clients noted last (DIR/demo.log), for a wait that fails.
  const notes = () => {
    const file = path.join(dir, 'demo.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-8).join('\n') : '';
  };
  const detail = () => `; the pane shows:\n${screen()}\nstandard error:\n${stderr()}\ndemo.log ends:\n${notes()}`;
  const demo = {
    dir,
    socket,
    stderr,
    screen,
    // Keys by tmux's names ('Enter', 'Escape', 'M-s', 'C-c'), or text typed as it is.
    keys: (...names) => void tmux('send-keys', '-t', 'demo', ...names),
    type: (text) => void tmux('send-keys', '-t', 'demo', '-l', text),
    // Resolves with the pane's text once it shows every one of `texts` (strings or RegExps).
    async shows(texts, what = JSON.stringify(String(texts)), ms = 20_000) {
      const all = [texts].flat();
      let last = '';
      const seen = () => {
        last = screen();
        return all.every((t) => (typeof t === 'string' ? last.includes(t) : t.test(last)));
      };
      await poll(seen, `the pane shows ${what}`, ms, detail);
      return last;
    },
    // Resolves once the normal screen, or what scrolled above it, shows `text` (after parley).
    async said(text, ms = 20_000) {
      await poll(() => scrollback().includes(text), `the terminal shows ${JSON.stringify(text)}`, ms, () => `; it shows:\n${scrollback()}\nstandard error:\n${stderr()}`);
    },
    // parley's exit status once it has ended and the shell has said it, else null.
    exitStatus() {
      const text = fs.existsSync(codeFile) ? fs.readFileSync(codeFile, 'utf8').trim() : '';
      return text === '' ? null : Number(text);
    },
    async ended(ms = 20_000) {
      await poll(() => demo.exitStatus() !== null, 'parley ended', ms, detail);
      return demo.exitStatus();
    },
    // Closes the window as a person does: tmux hangs the terminal up, parley gets SIGHUP.
    closeWindow: () => void quiet('kill-server'),
    // Resolves once no process names the demo's folder (tmux's server does until the window is
    // closed: its command line is that of the first tmux command); those left after `ms` are killed
    // (SIGKILL) and the promise rejects naming them.
    async gone(ms = 20_000) {
      try {
        await poll(() => processesNaming(dir).length === 0, 'every process of the demo gone', ms, () => `: ${processesNaming(dir).join(', ')} left; standard error:\n${stderr()}`);
      } catch (err) {
        for (const pid of processesNaming(dir)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        throw err;
      }
    },
    // Everything ended whatever happened before: for a finally.
    async close() {
      demo.closeWindow();
      await demo.gone().catch(() => undefined);
    },
  };
  const t = (await catalogues()).en;
  try {
    // The bot online, in the contacts and in the chat's title (the chat opened on it).
    await demo.shows([t.uiServer.online, new RegExp(`${BOT}\\s+${t.presence.online}`), new RegExp(`${BOT} \\(\\d+\\)\\s+${t.presence.online}`)], 'the bot online', startMs);
  } catch (err) {
    await demo.close();
    throw err;
  }
  return demo;
}

// The ids the screen shows: the user's in the top line, the bot's in the chat's title.
export function idsOn(screen) {
  const user = /^Parley \S+: \S+ \((\d+)\)/m.exec(screen);
  const bot = new RegExp(`${BOT} \\((\\d+)\\)`).exec(screen);
  return { user: user ? Number(user[1]) : null, bot: bot ? Number(bot[1]) : null };
}

/**
 * The tour, on a demo just opened (English): a file sent to the bot and accepted, "hello" sent
 * and "echo: hello" shown; then each screen in English, the language switched to Russian on the
 * settings screen, each screen in Russian, and back to English. `onScreen(name, lang, text)`
 * gets each screen once (SCREENS x LANGS). Each step waits for what it must show, so a tour that
 * ends is the test passed. Leaves the demo open on the chat, in English.
 */
export async function tour(demo, { work, onScreen = () => undefined }) {
  const t = await catalogues();
  const file = path.join(work, 'notes.txt');
  fs.writeFileSync(file, 'A note for the echo bot.\n'.repeat(4000)); // 100,000 bytes: 2 file packets
  const en = t.en;

  // A file: /send-file asks first (it spends file packets), Y sends, the bot takes it.
  // Enter once the text is shown: sent with it in one read, it would be taken for a paste's
  // line break (keys.ts).
  demo.type(`/send-file ${file}`);
  await demo.shows('notes.txt', 'the command typed');
  demo.keys('Enter');
  await demo.shows(en.uiConfirmKeys, 'the question before sending the file');
  demo.keys('y');
  await demo.shows(new RegExp(`notes\\.txt.*\\n.*${en.uiTransferStates.completed}`, 'i'), 'the file completed');

  demo.type('hello');
  await demo.shows('hello', 'the text typed');
  demo.keys('Enter');
  // The echo, and the route the chat's title then names (a link, not just the server's word).
  await demo.shows(['echo: hello', new RegExp(`${BOT} \\(\\d+\\)\\s+${en.presence.online} \\(`)], 'the echo');

  // The chat settled: "hello" read by the bot, the echo read here (no unread count beside the
  // bot: its line ends with its presence).
  const settled = (c) => [c.uiHelp, 'echo: hello', `✓✓ ${c.status.read}│`, new RegExp(`${BOT}\\s+${c.presence.online}│`)];
  const visit = async (lang) => {
    const c = t[lang];
    onScreen('chat', lang, await demo.shows(settled(c), `the chat (${lang})`));
    demo.keys('M-l');
    onScreen('files', lang, await demo.shows([c.uiFiles, 'notes.txt', c.uiFilesHelp], `the files (${lang})`));
    demo.keys('Escape');
    await demo.shows(['echo: hello', c.uiHelp], `the chat again (${lang})`);
    demo.keys('M-h');
    onScreen('keys', lang, await demo.shows(c.uiKeysTitle, `the keys (${lang})`));
    demo.keys('Escape');
    await demo.shows(['echo: hello', c.uiHelp], `the chat again (${lang})`);
  };
  // The settings screen, the language row first: Enter sets the next language.
  const switchTo = async (from, to) => {
    const f = t[from];
    demo.keys('M-s');
    onScreen('settings', from, await demo.shows([f.uiSettings, `▶ ${f.uiSettingLabels.language}: ${f.languageName}`, f.uiSettingsHelp], `the settings (${from})`));
    demo.keys('Enter');
    const s = t[to];
    await demo.shows([s.uiSettings, `▶ ${s.uiSettingLabels.language}: ${s.languageName}`, s.uiSettingsHelp, s.uiHelp], `the settings in ${to}`);
    demo.keys('Escape');
  };

  await visit('en');
  await switchTo('en', 'ru');
  await visit('ru');
  await switchTo('ru', 'en');
  await demo.shows([en.uiHelp, 'echo: hello'], 'the chat in English again');
}

// In one line, each match of `pattern` replaced, the line kept as wide: the longest run of spaces
// in the same pane (between two │) takes up the difference, as the screen's padding would.
// => replaceKeepingWidth('│a 1234  │', /\d+/g, '12') === '│a 12    │'
function replaceKeepingWidth(line, pattern, replacement) {
  let out = line;
  let from = 0;
  for (;;) {
    pattern.lastIndex = from;
    const m = pattern.exec(out);
    if (!m) return out;
    const next = typeof replacement === 'function' ? replacement(m[0]) : replacement;
    out = out.slice(0, m.index) + next + out.slice(m.index + m[0].length);
    from = m.index + next.length;
    const grow = next.length - m[0].length;
    if (grow === 0) continue;
    const left = out.lastIndexOf('│', m.index - 1) + 1;
    const right = out.indexOf('│', from);
    // Outside a pane (the top line), the line is as long as its text.
    if (right === -1) continue;
    const runs = [...out.slice(left, right).matchAll(/ {2,}/g)].filter((r) => left + r.index + r[0].length <= m.index || left + r.index >= from);
    const run = runs.sort((a, b) => b[0].length - a[0].length)[0];
    if (!run || run[0].length - grow < 1) continue;
    const at = left + run.index;
    out = out.slice(0, at) + ' '.repeat(run[0].length - grow) + out.slice(at + run[0].length);
    if (at < m.index) from -= grow;
  }
}

/**
 * A capture made stable for docs/: the ids the demo's server gave (random, 1 to 13 digits) become
 * stand-ins, the times 12:00, a file's average speed is left out, and the day's line shows a
 * fixed day, each line kept as wide. What else changes from run to run shows in a diff.
 */
export function stabilize(text, { user, bot }, today = new Date()) {
  const day = (lang, d) => new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(d);
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const fixed = new Date(Date.UTC(2026, 0, 15, 12));
  const rules = [
    ...(user === null ? [] : [[new RegExp(`\\b${user}\\b`, 'g'), '123456789012']]),
    ...(bot === null ? [] : [[new RegExp(`\\b${bot}\\b`, 'g'), '987654321098']]),
    [/\b\d\d:\d\d\b/g, '12:00'],
    // A file's average speed: shown or not as the transfer took a millisecond or none.
    [/, (average|в среднем) \d[\d.,]* [kMG]?B\/s/g, ''],
    // The day's line, drawn again as lines.ts draws it: ─── December 1, 2026 ─── in the chat's
    // width, centred (an odd space is left at the end).
    ...LANGS.map((lang) => [new RegExp(`(?<=│)─+ ${escape(day(lang, today))} ─+ *(?=│)`, 'g'), (all) => {
      const then = ` ${day(lang, fixed)} `;
      const side = '─'.repeat(Math.max(2, Math.floor((all.length - then.length) / 2)));
      return (side + then + side).padEnd(all.length);
    }]),
  ];
  const lines = text.replace(/\n+$/, '').split('\n').map((line) => rules.reduce((l, [pattern, to]) => replaceKeepingWidth(l, pattern, to), line));
  return lines.join('\n') + '\n';
}
