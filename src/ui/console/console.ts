// `parley console`: the line mode (stage 1 of the original). Attached to the running client over
// its local socket (../attachment.ts), it prints what comes as it comes, above the line being
// typed (screen.ts), sends each typed line to the current contact, and runs the slash commands
// as the commands they mirror ("run" requests: the same checks and exit codes as `parley ...`).
// Every string is the catalogue's (../i18n); what to print is decided in notices.ts and format.ts.
import fs from 'node:fs';
import path from 'node:path';
import { MAX_TEXT_BYTES } from '../../net/chat.js';
import type { Stored } from '../../events/types.js';
import type { StatusRow } from '../../node/status.js';
import { LANGUAGES, type Language } from '../../projections/settings.js';
import { packetsFor } from '../../projections/quotas.js';
import * as client from '../attachment.js';
import { catalogue, type Catalogue } from '../i18n/index.js';
import { isYes } from '../../commands/confirm.js';
import { contactLine, errorLine, messageLine, oneLine, who } from './format.js';
import { parseInput, type Input } from './input.js';
import { eventLine, statusLines, type FileNames } from './notices.js';
import { createScreen, type ScreenIo } from './screen.js';

export type ConsoleOptions = ScreenIo & {
  home: string;
  // Where relative paths (/send-file) are taken from: where the person typed `parley console`.
  cwd: string;
  // The client was started by this console (none ran): said once at the start.
  startedHere?: boolean;
  // The contact written to from the start (the demo's echo bot), if it is one.
  to?: number;
  // The client stops when this console ends (it was started here, or the demo's): piped input
  // that ends gives what it wrote SETTLE_MS to be delivered first.
  clientStops?: boolean;
};

// How long piped input that ended waits for its messages to reach contacts who are online; and,
// from the console's start, how long it looks for one to come online (a client started with the
// console has often not heard from the server yet when a script's last line is read).
export const SETTLE_MS = 10_000;
export const FIRST_LOOK_MS = 3_000;

export type RunningConsole = {
  // Resolves with the exit code once the console has ended and said what is pending.
  done: Promise<number>;
  // Ends it the way /quit does (a signal, a closed window).
  stop: () => void;
  // A line from elsewhere (the notes of a client started in this process), above the input.
  print: (line: string) => void;
};

// A command's own words on failure, without its "parley: " prefix: one line per line it wrote.
function failure(err: string): string {
  return err.trim().split('\n').map((l) => l.replace(/^parley: /, '')).join(' ') || '?';
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const { home, cwd } = options;
  const files: FileNames = new Map();
  let status: StatusRow;
  let language: Language = 'en';
  let t: Catalogue = catalogue(language);
  let current: number | null = null;
  // A line that waits for a yes: the command to run with --yes.
  let confirming: string[] | null = null;
  let ending = false;
  // Ended from outside (a signal, Ctrl+C, a closed window), not by the end of the input.
  let stopped = false;
  let endReason: string | null = null;
  // Wakes settle() at the next event or status.
  let changed: (() => void) | null = null;
  const screen = createScreen(options);
  const openedAt = Date.now();

  const nameOf = (peer: number): string => who(peer, status.contacts.find((c) => c.id === peer)?.name);
  const prompt = (): void => screen.setPrompt(t.prompt(current === null ? null : nameOf(current)));
  const print = (line: string): void => screen.print(line);

  function setLanguage(value: unknown): boolean {
    const next = LANGUAGES.find((l) => l === value);
    if (!next || next === language) return false;
    language = next;
    t = catalogue(language);
    prompt();
    return true;
  }

  const subscription = await client.subscribe(home, {
    onEvent(event: Stored) {
      const line = eventLine(t, event, nameOf, files);
      if (line !== null) print(line);
      changed?.();
    },
    onStatus(next) {
      for (const line of statusLines(t, status, next, nameOf)) print(line);
      status = next;
      prompt();
      changed?.();
    },
    onSettings(settings) {
      if (setLanguage(settings.language)) print(t.languageSet);
    },
    onEnd(reason) {
      if (ending) return;
      endReason = reason ?? 'stopped';
      print(t.clientGone);
      screen.close();
    },
  });
  status = subscription.snapshot.status;
  setLanguage(subscription.snapshot.settings.language);
  screen.onInterrupt(() => stop());
  print(t.hello(status.id === null ? (status.name ?? t.you) : who(status.id, status.name)));
  if (options.startedHere) print(t.startedHere);
  if (options.to !== undefined && status.contacts.some((c) => c.id === options.to)) {
    current = options.to;
    print(t.writingTo(nameOf(current)));
  } else if (status.contacts.length === 1) {
    // One contact: there is nobody else to write to, so the console starts with them (/to
    // changes it once there are more).
    current = status.contacts[0].id;
    print(t.writingTo(nameOf(current)));
  }
  prompt();

  async function runCommand(argv: string[]): Promise<client.RunResult> {
    const r = await client.run(home, argv, cwd);
    if (r.exit !== 0) print(t.failed(oneLine(failure(r.err))));
    return r;
  }

  // A message or a file of more than one packet is asked about first, as `send` asks.
  async function spend(argv: string[], packets: number, question: string): Promise<void> {
    if (packets <= 1) {
      await runCommand(argv);
      return;
    }
    confirming = [...argv.slice(0, argv.indexOf('--')), '--yes', ...argv.slice(argv.indexOf('--'))];
    screen.setPrompt(question);
    if (options.input.isTTY !== true) print(question.trimEnd());
  }

  async function history(peer: number, limit: number): Promise<void> {
    const rows = await client.page(home, peer, { limit });
    if (rows.length === 0) print(t.noHistory(nameOf(peer)));
    for (const m of rows) {
      const status = m.direction === 'out' ? m.status : undefined;
      print(messageLine(t, { direction: m.direction, at: m.at, text: m.text, status, edited: m.edited_at !== null }, nameOf(peer)));
    }
  }

  async function handle(input: Input, line: string): Promise<void> {
    switch (input.kind) {
      case 'empty':
        return;
      case 'error':
        return print(errorLine(t, input.error));
      case 'help':
        return t.help.forEach(print);
      case 'quit':
        ending = true;
        return;
      case 'contacts':
        if (status.contacts.length === 0) return print(t.noContacts);
        return status.contacts.forEach((c) => print(contactLine(t, c)));
      case 'to':
        if (!status.contacts.some((c) => c.id === input.id)) return print(t.notContact(input.id));
        current = input.id;
        return print(t.writingTo(nameOf(current)));
      case 'lang': {
        const r = await runCommand(['settings', 'set', 'language', input.language]);
        if (r.exit === 0 && setLanguage(input.language)) print(t.languageSet);
        return;
      }
      case 'requests': {
        const r = await runCommand(['requests', input.action, String(input.id)]);
        if (r.exit === 0) print(input.action === 'accept' ? t.accepted(input.id) : t.refused(input.id));
        return;
      }
      case 'transfers':
        // Its event tells how it went (notices.ts).
        await runCommand(['transfers', input.action, '--json', '--', input.tid]);
        return;
    }
    if (current === null) return print(t.noContact);
    const to = String(current);
    switch (input.kind) {
      case 'history':
        return history(current, input.limit);
      case 'text': {
        screen.eraseEntered(line);
        // A text over the bound is refused by the command, with its reason.
        const bytes = Buffer.byteLength(input.text);
        return spend(['send', '--to', to, '--json', '--', input.text], bytes > MAX_TEXT_BYTES ? 1 : packetsFor(bytes), t.confirmMessage(packetsFor(bytes), nameOf(current)));
      }
      case 'send-file': {
        const file = path.resolve(cwd, input.path);
        // A path that is no file is refused by the command, with its reason.
        let size = 0;
        try {
          size = fs.statSync(file).size;
        } catch {
          size = 0;
        }
        return spend(['send-file', '--to', to, '--json', '--', file], packetsFor(size), t.confirmFile(packetsFor(size), nameOf(current)));
      }
    }
  }

  async function loop(): Promise<void> {
    for await (const line of screen.lines) {
      if (confirming) {
        const argv = confirming;
        confirming = null;
        if (isYes(line)) await runCommand(argv);
        else print(t.notSent);
      } else {
        try {
          await handle(parseInput(line), line);
        } catch (err) {
          // The client went away under a request: said, and the console goes on or ends.
          print(t.failed(oneLine((err as Error).message)));
        }
      }
      if (ending || endReason !== null) break;
      if (!confirming) prompt();
    }
  }

  function stop(): void {
    stopped = true;
    screen.close();
    // A wait for delivery (settle) ends at once too.
    changed?.();
  }

  // Piped input has ended (a script's lines, not /quit) and the client stops with the console:
  // what it wrote goes before the client does, as a script expects, for up to SETTLE_MS and only
  // while a contact is online (to one who is not, it waits for the next start, as the bye says).
  // Replies that come meanwhile are printed.
  async function settle(): Promise<void> {
    const until = Date.now() + SETTLE_MS;
    let said = false;
    for (;;) {
      const left = until - Date.now();
      const { messages } = await client.pending(home);
      if (messages === 0 || left <= 0 || stopped || endReason !== null) return;
      const online = status.contacts.some((c) => c.presence === 'online');
      if (!online && Date.now() - openedAt >= FIRST_LOOK_MS) return;
      if (online && !said) {
        print(t.settling(messages, Math.ceil(left / 1000)));
        said = true;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        changed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      changed = null;
    }
  }

  const done = (async (): Promise<number> => {
    await loop();
    const inputEnded = !ending && !stopped && endReason === null;
    ending = true;
    // Input ends here: what follows is printed on rows of its own, no prompt after it.
    screen.close();
    if (inputEnded && options.clientStops === true && options.input.isTTY !== true) {
      try {
        await settle();
      } catch {
        // The client went away meanwhile: the bye below says what it can.
      }
    }
    if (endReason === null) {
      try {
        const p = await client.pending(home);
        print(t.bye(p.messages, p.transfers));
      } catch {
        print(t.byeUnknown);
      }
    }
    subscription.close();
    screen.close();
    return endReason === null ? 0 : 1;
  })();

  return { done, stop, print };
}
