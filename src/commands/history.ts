// parley history --peer ID [--json]; history export; history clear
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { writeNewFiles } from '../../cert/files.js';
import { badInput } from '../errors.js';
import { historyOf } from '../projections/chats.js';
import { historyRow, timeOf, dayOf, toCsv, toJsonl, toMarkdown } from '../node/export.js';
import { parseId, peerName, printJson, printLine, profileOptions, requireKnownPeer, withProfile } from './common.js';

const FORMATS = ['jsonl', 'csv', 'md'] as const;
type Format = (typeof FORMATS)[number];

// Writes FILE whole or not at all, never over an existing one (cert/files.ts writeNewFiles does
// the temporary file, the hard link and its fallback). The checks first, for --out's own words.
function writeNew(file: string, text: string): void {
  if (fs.existsSync(file)) throw badInput('FILE_EXISTS', `${file} already exists; choose another --out`);
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) throw badInput('NO_SUCH_DIR', `cannot write ${file}: folder ${dir} does not exist`);
  writeNewFiles([{ file, data: text }]);
}

export function registerHistoryCommands(program: Command): void {
  // --peer is checked in the action, not declared required: commander would demand a parent's
  // required option from `history export` and `history clear` too.
  const history = profileOptions(program.command('history').description('the messages with a contact'))
    .option('--peer <id>', 'the contact (required)')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { peer?: string; json?: boolean }, cmd: Command) => {
      if (opts.peer === undefined) throw badInput('NO_PEER', 'say whose history: parley history --peer ID');
      const peer = parseId(opts.peer, 'peer id');
      await withProfile(cmd, async (profile) => {
        requireKnownPeer(profile, peer);
        const messages = historyOf(profile.views.chats, peer);
        const name = peerName(profile, peer);
        let day = '';
        for (const m of messages) {
          if (opts.json) {
            printJson(historyRow(m));
            continue;
          }
          if (dayOf(m.at) !== day) {
            day = dayOf(m.at);
            printLine(`-- ${day} --`);
          }
          const who = m.direction === 'out' ? 'me' : name;
          const edited = m.editedAt !== null ? ' (edited)' : '';
          const reply = m.replyTo !== null ? ` [reply to ${m.replyTo}]` : '';
          printLine(`${timeOf(m.at)} ${who}: ${m.text}${edited}${reply}  [${m.status}]`);
        }
        if (!opts.json && messages.length === 0) printLine(`no messages with ${name}`);
      }, { readOnly: true });
    });

  profileOptions(history.command('export').description('write the history with a contact to a file'))
    .requiredOption('--peer <id>', 'the contact')
    .requiredOption('--format <format>', 'jsonl, csv or md')
    .option('--out <file>', 'the file to write (default: standard output); never overwritten')
    .action(async (opts: { peer: string; format: string; out?: string }, cmd: Command) => {
      const peer = parseId(opts.peer, 'peer id');
      if (!FORMATS.includes(opts.format as Format)) throw badInput('BAD_FORMAT', `--format must be one of ${FORMATS.join(', ')}, got "${opts.format}"`);
      const out = opts.out === undefined ? undefined : path.resolve(opts.out);
      if (out !== undefined && fs.existsSync(out)) throw badInput('FILE_EXISTS', `${out} already exists; choose another --out`);
      await withProfile(cmd, async (profile) => {
        requireKnownPeer(profile, peer);
        const messages = historyOf(profile.views.chats, peer);
        const name = peerName(profile, peer);
        const format = opts.format as Format;
        const text = format === 'jsonl' ? toJsonl(messages) : format === 'csv' ? toCsv(messages) : toMarkdown(messages, peer, name);
        if (out === undefined) process.stdout.write(text);
        else writeNew(out, text);
      }, { readOnly: true });
    });

  profileOptions(history.command('clear').description('forget the messages with a contact, from the disk too'))
    .requiredOption('--peer <id>', 'the contact')
    .option('--json', 'print what was removed as JSON')
    .action(async (opts: { peer: string; json?: boolean }, cmd: Command) => {
      const peer = parseId(opts.peer, 'peer id');
      await withProfile(cmd, async (profile) => {
        requireKnownPeer(profile, peer);
        const name = peerName(profile, peer);
        const cleared = await profile.clearChat(peer);
        if (cleared.type !== 'chat.cleared') return;
        if (opts.json) printJson({ peer, seq: cleared.seq, removed: cleared.removed });
        else printLine(`forgot the chat with ${name} (${cleared.removed} events removed from the disk)`);
      }, { readOnly: true });
    });
}
