// parley send --to ID [--reply-to MSGID] [--yes] TEXT: a message journaled, then sent by the
// running client when both clients are up.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { badInput, EXIT, parleyError } from '../errors.js';
import { MAX_EDIT_BYTES, MAX_TEXT_BYTES } from '../net/chat.js';
import { left, packetsFor, quotaOf } from '../projections/quotas.js';
import { confirmSpend } from './confirm.js';
import { clientProfile, clientState } from './io.js';
import { parseId, peerName, printError, printJson, printLine, profileOptions, requireContact, requireKnownPeer, withProfile } from './common.js';
import type { Profile } from '../node/profile.js';

type SendOpts = { to: string; replyTo?: string; yes?: boolean; json?: boolean };

// What one command-line argument can hold on every system (Windows' command line: 32 KiB; Linux
// about 128 KiB per argument): a longer text comes through standard input.
const MAX_ARGUMENT_BYTES = 128 * 1024;

export function registerMessageCommands(program: Command): void {
  profileOptions(program.command('edit').description('change the text of a message you sent').argument('<msgid>', 'the message').argument('<text>', 'its new text (at most one packet, 65,535 bytes)'))
    .option('--peer <id>', 'the contact it was sent to (found by its id otherwise)')
    .option('--json', 'print {"id","peer","edited"}')
    .action(async (msgId: string, text: string, opts: { peer?: string; json?: boolean }, cmd: Command) => {
      if (!/^[\x21-\x7e]{1,64}$/.test(msgId)) throw badInput('BAD_ID', `a message id is 1 to 64 printable characters, got "${msgId}"`);
      const only = opts.peer === undefined ? undefined : parseId(opts.peer, 'peer id');
      if (text.length === 0) throw badInput('EMPTY_TEXT', 'the new text is empty');
      if (Buffer.byteLength(text) > MAX_EDIT_BYTES) throw badInput('TEXT_TOO_LONG', `an edit is at most one packet (${MAX_EDIT_BYTES} bytes of UTF-8): send a new message instead`);
      await withProfile(cmd, async (profile) => {
        const peers = only !== undefined ? [only] : profile.chats().map((c) => c.peer);
        for (const peer of peers) {
          const m = await profile.message(peer, 'out', msgId);
          if (!m) continue;
          if (m.text !== text) await profile.append({ type: 'message.edited', id: msgId, peer, msgSeq: m.seq, direction: 'out', text });
          if (opts.json) printJson({ id: msgId, peer, edited: true });
          else printLine(`${msgId} edited`);
          return;
        }
        throw parleyError('NO_SUCH_MESSAGE', `you sent no message with id ${msgId}${only !== undefined ? ` to ${only}` : ''} (parley history --json shows the ids)`, EXIT.PEER);
      });
    });

  profileOptions(program.command('read').description('mark a chat read up to its last message, as opening it does'))
    .requiredOption('--peer <id>', 'the contact')
    .option('--json', 'print {"peer","read","unread"}')
    .action(async (opts: { peer: string; json?: boolean }, cmd: Command) => {
      const peer = parseId(opts.peer, 'peer id');
      await withProfile(cmd, async (profile) => {
        requireKnownPeer(profile, peer);
        const last = await lastIncoming(profile, peer);
        const before = profile.unread(peer);
        // One mark for everything up to the last message (a watermark), and the peer is told.
        if (last && last.seq > (profile.chat(peer)?.readSeq ?? 0)) await profile.append({ type: 'message.read', id: last.id, peer, by: 'me', msgSeq: last.seq });
        if (opts.json) printJson({ peer, read: before, unread: profile.unread(peer) });
        else printLine(before > 0 ? `${before} message(s) from ${peerName(profile, peer)} marked read` : `nothing unread from ${peerName(profile, peer)}`);
      });
    });

  profileOptions(program.command('send').description('send a message to a contact').argument('<text>', 'the message, or - to read it from standard input'))
    .requiredOption('--to <id>', 'the contact')
    .option('--reply-to <msgid>', 'the message this one answers')
    .option('--yes', 'send a message longer than one packet (65,535 bytes) without asking (asked on a terminal, exit 5 elsewhere)')
    .option('--json', 'print {"id","status"}')
    .action(async (textArg: string, opts: SendOpts, cmd: Command) => {
      const peer = parseId(opts.to, 'contact id');
      const text = textArg === '-' ? await readStdin() : textArg;
      // A text forwarded to the running client comes inline, whatever its length.
      if (textArg !== '-' && !clientProfile() && Buffer.byteLength(text) > MAX_ARGUMENT_BYTES) {
        throw badInput('TEXT_TOO_LONG', 'a text this long does not fit in one argument: give - and pipe it to standard input');
      }
      const bytes = Buffer.byteLength(text);
      if (text.length === 0) throw badInput('EMPTY_TEXT', 'the message is empty');
      if (bytes > MAX_TEXT_BYTES) throw badInput('TEXT_TOO_LONG', `a message is at most ${MAX_TEXT_BYTES} bytes of UTF-8 and this one has ${bytes}: send it as a file instead`);
      if (opts.replyTo !== undefined && !/^[\x21-\x7e]{1,64}$/.test(opts.replyTo)) throw badInput('BAD_ID', `--reply-to takes a message id, got "${opts.replyTo}"`);
      const packets = packetsFor(bytes);
      // A text read from standard input leaves no terminal to answer on.
      const yes = await confirmSpend({
        packets,
        yes: opts.yes === true,
        mayAsk: textArg !== '-',
        question: `This message takes ${packets} packet${packets === 1 ? '' : 's'} of your limit with ${peer}. Send it? [y/N] `,
        refusal: `this message takes ${packets} packet${packets === 1 ? '' : 's'} of your limit with ${peer}: add --yes to send it`,
      });
      // To a running client the text goes inline, read from standard input here if it was.
      const argv = ['send', '--to', String(peer), ...(opts.replyTo ? ['--reply-to', opts.replyTo] : []), ...(yes ? ['--yes'] : []), ...(opts.json ? ['--json'] : []), '--', text];
      await withProfile(
        cmd,
        async (profile) => {
          requireContact(profile, peer);
          // The room is read before the message is journaled: its own spend comes when it goes.
          const room = left(quotaOf(profile.views.quotas, peer).outbound.messages);
          const id = newId();
          await profile.append({ type: 'message.sent', id, peer, text, packets, ...(opts.replyTo ? { replyTo: opts.replyTo } : {}) });
          if (opts.json) printJson({ id, status: 'pending' });
          else printLine(`${id} pending`);
          printWhenItGoes(profile, peer, { what: 'message', room, packets });
        },
        { argv },
      );
    });
}

// A new id for what I send (a message, a transfer): 8 random bytes in hex, unique enough among
// mine to one contact without asking anyone. => 'a3f09c2e7b41d580'
export function newId(): string {
  return randomBytes(8).toString('hex');
}

// What an intent for `peer` (a message, a file, an answer) waits for before it goes: my client
// (the commands only journal; `parley up` sends), or the peer's, or nothing.
export function waitsFor(peer: number): 'my-client' | 'peer' | null {
  const state = clientState();
  if (!state) return 'my-client';
  return state.presence.get(peer)?.online === true ? null : 'peer';
}

// What `send` and `send-file` say on stderr after journaling: why what was sent has not gone
// yet, when it waits. `room`: the packets of this kind the contact still grants, read before
// this spend.
export function printWhenItGoes(profile: Profile, peer: number, o: { what: 'message' | 'file'; room: number; packets: number }): void {
  const name = peerName(profile, peer);
  const kind = o.what === 'file' ? 'file packet(s)' : 'packet(s)';
  if (o.room < o.packets) printError(`parley: ${name} has granted you ${o.room} more ${kind} and this ${o.what} takes ${o.packets}: it waits for their grant (a new contact's first grant comes with the first link)`);
  const waits = waitsFor(peer);
  if (waits === 'my-client') printError(`parley: it goes when your client (parley up) and ${name}'s are both running; there is no store-and-forward yet`);
  else if (waits === 'peer') printError(`parley: ${name} is offline: it goes when their client is up (there is no store-and-forward yet)`);
}

// The last message the contact sent me, or null: read back from the end of the chat.
async function lastIncoming(profile: Profile, peer: number): Promise<{ id: string; seq: number } | null> {
  let before: number | undefined;
  for (;;) {
    const page = await profile.page(peer, { limit: 50, before });
    for (let i = page.length - 1; i >= 0; i--) if (page[i].direction === 'in') return { id: page[i].id, seq: page[i].seq };
    if (page.length < 50) return null;
    before = page[0].seq;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_TEXT_BYTES + 4) throw badInput('TEXT_TOO_LONG', `a message is at most ${MAX_TEXT_BYTES} bytes of UTF-8: send it as a file instead`);
    chunks.push(b);
  }
  // Bytes that are not UTF-8 are kept as the replacement character, never a crash.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
