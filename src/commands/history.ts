// parley history --peer ID [--limit N] [--before SEQ] [--json]; history export; history clear;
// history keep [--peer ID [on|off]] [--json]
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { writeNewFileStreamed } from '../../cert/files.js';
import { badInput } from '../errors.js';
import type { ChatMessage } from '../node/history.js';
import { exporter, FORMATS, historyRow, timeOf, dayOf, type Format } from '../node/export.js';
import type { Profile } from '../node/profile.js';
import { decideKeep, isKept, notKept } from '../projections/retention.js';
import { resolvePath } from './io.js';
import { parseCount, parseId, peerName, printJson, printLine, profileOptions, requireKnownPeer, withProfile, writeOut } from './common.js';

// The messages asked for, a page at a time, oldest first: the last --limit before --before, or
// the whole chat (before --before) streamed, so memory stays flat however long it is.
async function* messagesOf(profile: Profile, peer: number, limit: number | undefined, before: number | undefined): AsyncGenerator<ChatMessage[]> {
  if (limit !== undefined) {
    yield await profile.page(peer, { limit, before });
    return;
  }
  for await (const page of profile.stream(peer)) {
    if (before === undefined) {
      yield page;
      continue;
    }
    const kept = page.filter((m) => m.seq < before);
    if (kept.length > 0) yield kept;
    if (kept.length < page.length) return;
  }
}

export function registerHistoryCommands(program: Command): void {
  // --peer is checked in the action, not declared required: commander would demand a parent's
  // required option from `history export` and `history clear` too.
  const history = profileOptions(program.command('history').description('the messages with a contact'))
    .option('--peer <id>', 'the contact (required)')
    .option('--limit <n>', 'only the last N messages (before --before)')
    .option('--before <seq>', 'only messages before this seq (the seq of the first one already shown)')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { peer?: string; json?: boolean; limit?: string; before?: string }, cmd: Command) => {
      if (opts.peer === undefined) throw badInput('NO_PEER', 'say whose history: parley history --peer ID');
      const peer = parseId(opts.peer, 'peer id');
      const limit = opts.limit === undefined ? undefined : parseCount(opts.limit, '--limit');
      const before = opts.before === undefined ? undefined : parseCount(opts.before, '--before');
      await withProfile(cmd, async (profile) => {
        requireKnownPeer(profile, peer);
        const name = peerName(profile, peer);
        let day = '';
        let shown = 0;
        for await (const page of messagesOf(profile, peer, limit, before)) {
          let out = '';
          for (const m of page) {
            shown++;
            if (opts.json) {
              out += JSON.stringify(historyRow(m)) + '\n';
              continue;
            }
            if (dayOf(m.at) !== day) {
              day = dayOf(m.at);
              out += `-- ${day} --\n`;
            }
            const who = m.direction === 'out' ? 'me' : name;
            const edited = m.editedAt !== null ? ' (edited)' : '';
            const reply = m.replyTo !== null ? ` [reply to ${m.replyTo}]` : '';
            const why = m.reason !== null ? `: ${m.reason}` : '';
            out += `${timeOf(m.at)} ${who}: ${m.text}${edited}${reply}  [${m.status}${why}]\n`;
          }
          await writeOut(out);
        }
        if (!opts.json && shown === 0) printLine(`no messages with ${name}`);
      }, { readOnly: true });
    });

  profileOptions(history.command('export').description('write the history with a contact to a file'))
    .requiredOption('--peer <id>', 'the contact')
    .requiredOption('--format <format>', 'jsonl, csv or md')
    .option('--out <file>', 'the file to write (default: standard output); never overwritten')
    .action(async (opts: { peer: string; format: string; out?: string }, cmd: Command) => {
      const peer = parseId(opts.peer, 'peer id');
      if (!FORMATS.includes(opts.format as Format)) throw badInput('BAD_FORMAT', `--format must be one of ${FORMATS.join(', ')}, got "${opts.format}"`);
      const out = opts.out === undefined ? undefined : resolvePath(opts.out);
      if (out !== undefined && fs.existsSync(out)) throw badInput('FILE_EXISTS', `${out} already exists; choose another --out`);
      if (out !== undefined && !fs.existsSync(path.dirname(out))) throw badInput('NO_SUCH_DIR', `cannot write ${out}: folder ${path.dirname(out)} does not exist`);
      await withProfile(cmd, async (profile) => {
        requireKnownPeer(profile, peer);
        const e = exporter(opts.format as Format, peer, peerName(profile, peer));
        const fill = async (write: (text: string) => Promise<void>): Promise<void> => {
          await write(e.header);
          for await (const page of profile.stream(peer)) {
            let text = '';
            for (const m of page) text += e.row(m);
            await write(text);
          }
        };
        // A file is written whole or not at all, never over an existing one (cert/files.ts).
        if (out === undefined) await fill(writeOut);
        else await writeNewFileStreamed(out, fill);
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

  // Per chat, whether it is kept: off, the running client clears it when it closes (as `history
  // clear` does), so what is said there lasts one session. Without a value, it shows; without
  // --peer, it lists every contact's chat and any other not kept.
  profileOptions(history.command('keep').description('keep the history with a contact (on, the default) or clear it each time the client closes (off); without a value, show it').argument('[value]', 'on or off'))
    .option('--peer <id>', 'the contact (required to set it)')
    .option('--json', 'one JSON object per line: {"peer","name","keep"}')
    .action(async (value: string | undefined, opts: { peer?: string; json?: boolean }, cmd: Command) => {
      const peer = opts.peer === undefined ? undefined : parseId(opts.peer, 'peer id');
      if (value !== undefined && value !== 'on' && value !== 'off') throw badInput('BAD_KEEP', `keep must be on or off, got "${value.slice(0, 40)}"`);
      if (value !== undefined && peer === undefined) throw badInput('NO_PEER', `say whose history: parley history keep --peer ID ${value}`);
      await withProfile(cmd, async (profile) => {
        if (peer !== undefined) requireKnownPeer(profile, peer);
        if (peer !== undefined && value !== undefined) {
          const change = decideKeep(profile.views.retention, peer, value === 'on');
          if (change) await profile.append(change);
        }
        const peers = peer !== undefined ? [peer] : [...new Set([...Object.values(profile.views.contacts).map((c) => c.id), ...notKept(profile.views.retention)])].sort((a, b) => a - b);
        for (const p of peers) {
          const keep = isKept(profile.views.retention, p);
          if (opts.json) printJson({ peer: p, name: peerName(profile, p), keep });
          else printLine(`${p}\t${peerName(profile, p)}\t${keep ? 'kept' : 'not kept: cleared when the client closes'}`);
        }
        // Opened as a command that only reads: an unknown peer leaves no empty profile behind.
      }, { readOnly: true });
    });
}
