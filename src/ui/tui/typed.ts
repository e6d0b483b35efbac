// What a line typed in the input box asks for (the console's grammar, ../console/input.ts):
// text for the open chat, `/send-file PATH`, `/to ID`, `/lang`, `/quit`..., each sent as the
// command it mirrors (an intent, attachment.ts `run`). A long message or a file first asks to
// confirm the packets it will spend, in the chat body and the box; the command then runs with
// --yes, as the console does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_TEXT_BYTES } from '../../net/chat.js';
import { packetsFor } from '../../projections/quotas.js';
import { catalogue } from '../i18n/index.js';
import { errorLine, oneLine } from '../console/format.js';
import { parseInput } from '../console/input.js';
import type { Controls } from './controls.js';
import * as ed from './editor.js';
import { nameOf, type Notice } from './model.js';

export const tOf = (c: Controls) => catalogue(c.model.current.settings.language === 'ru' ? 'ru' : 'en');

// A command's own words on failure, without its "parley: " prefix.
function failure(err: string): string {
  return err.trim().split('\n').map((l) => l.replace(/^parley: /, '')).join(' ') || '?';
}

export function notice(c: Controls, n: Notice): void {
  c.dispatch({ type: 'notice', peer: c.model.current.current, notice: n, at: Date.now() });
}

export async function runIntent(c: Controls, argv: string[]): Promise<boolean> {
  const r = await c.client.run(argv).catch((err: Error) => ({ out: '', err: err.message, exit: 1 }));
  if (r.exit !== 0) notice(c, { kind: 'failed', text: failure(r.err) });
  return r.exit === 0;
}

// More than one packet is asked about first, as `send` asks; the command then runs with --yes.
// A file is always asked about: sending one is a choice worth a second look.
function spend(c: Controls, argv: string[], peer: number, packets: number, file: boolean): void {
  if (packets <= 1 && !file) return void runIntent(c, argv);
  const at = argv.indexOf('--');
  const t = tOf(c);
  const question = (file ? t.confirmFile : t.confirmMessage)(packets, nameOf(c.model.current, peer));
  notice(c, { kind: 'confirm', peer, packets, file });
  c.setUi({ mode: 'confirm', confirm: { argv: [...argv.slice(0, at), '--yes', ...argv.slice(at)], question } });
}

export function submit(c: Controls): void {
  const m = c.model.current;
  const t = tOf(c);
  const text = c.ui.current.editor.text;
  const input = parseInput(text);
  if (input.kind === 'empty') return;
  const typed = c.ui.current.editor;
  c.setUi({ editor: ed.clear(typed), note: null });
  const to = m.current;
  switch (input.kind) {
    case 'quit':
      return c.quit();
    case 'error':
      return c.setUi({ note: input.error.code === 'UNKNOWN_COMMAND' ? t.uiUnknownCommand(oneLine(input.error.command.slice(0, 40))) : errorLine(t, input.error) });
    case 'to':
      if (!m.status.contacts.some((x) => x.id === input.id)) return c.setUi({ note: t.notContact(input.id) });
      return void c.openChat(input.id);
    case 'lang':
      return void runIntent(c, ['settings', 'set', 'language', input.language]);
    case 'requests':
      return void runIntent(c, ['requests', input.action, String(input.id)]);
    case 'transfers':
      return void runIntent(c, ['transfers', input.action, '--json', '--', input.tid]);
    case 'help':
    case 'contacts':
    case 'history':
      return c.setUi({ note: t.uiCommands });
  }
  // Nobody to write to: the text stays in the box.
  if (to === null) return c.setUi({ note: t.noContact, editor: typed });
  if (input.kind === 'text') {
    const bytes = Buffer.byteLength(input.text);
    const reply = c.ui.current.replyTo;
    c.setUi({ replyTo: null });
    // A text over the bound is refused by the command, with its reason.
    const argv = ['send', '--to', String(to), '--json', ...(reply !== null ? ['--reply-to', reply] : []), '--', input.text];
    return spend(c, argv, to, bytes > MAX_TEXT_BYTES ? 1 : packetsFor(bytes), false);
  }
  const file = path.resolve(c.cwd, input.path.startsWith('~/') ? path.join(os.homedir(), input.path.slice(2)) : input.path);
  let size = 0;
  try {
    size = fs.statSync(file).size;
  } catch {
    // A path that is no file is refused by the command, with its reason.
    return void runIntent(c, ['send-file', '--to', String(to), '--json', '--', file]);
  }
  spend(c, ['send-file', '--to', String(to), '--json', '--', file], to, packetsFor(size), true);
}

