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
};

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
  let endReason: string | null = null;
  const screen = createScreen(options);

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
    },
    onStatus(next) {
      for (const line of statusLines(t, status, next, nameOf)) print(line);
      status = next;
      prompt();
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
  screen.onInterrupt(() => screen.close());
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

  const done = (async (): Promise<number> => {
    await loop();
    ending = true;
    // Input ends here: what follows is printed on rows of its own, no prompt after it.
    screen.close();
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

  return { done, stop: () => screen.close(), print };
}
