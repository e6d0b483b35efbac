// parley transfers [--limit N] [--before SEQ]; parley transfers accept|decline|cancel TID;
// parley send-file --to ID [--yes] PATH is in send-file.ts.
//
// These commands only read the stored transfers view (node/transfers.ts) and journal intents: an
// offer, an answer, a cancel. The running client's transfer engine (node/files.ts) reacts to
// those events as delivery.ts reacts to message.sent: it sends the offer when a link is up,
// moves the chunks, and journals the progress the view shows here. So each command works the
// same with or without a client running, and an intent journaled while both sides are away
// goes when they are back.
import path from 'node:path';
import type { Command } from 'commander';
import { badInput } from '../errors.js';
import type { Direction, NewEvent } from '../events/types.js';
import { LIMITS } from '../net/constants.js';
import { hasControlChars } from '../net/text.js';
import { downloadsDir } from '../node/downloads.js';
import { checkFileName } from '../node/filename.js';
import type { Profile } from '../node/profile.js';
import { runningMeter } from '../node/speeds.js';
import { settingsOf } from '../projections/settings.js';
import { activeMsOf, isFinished, type Transfer } from '../projections/transfer-values.js';
import { oneLine, sizeText } from '../ui/console/format.js';
import { waitsFor } from './messages.js';
import { parseCount, parseId, peerName, printError, printJson, printLine, profileOptions, withProfile, writeOut } from './common.js';
import { oneTransfer, PAGE, sideOf } from './transfer-lookup.js';


// Transfer ids: as message ids, 1 to 64 printable ASCII characters (mine are 16 hex digits).
const ID = /^[\x21-\x7e]{1,64}$/;

// One line of `parley transfers --json`. Speeds in 10^6 bytes per second.
export type TransferRow = {
  seq: number;
  id: string;
  peer: number;
  direction: Direction;
  name: string;
  size: number;
  done: number;
  wire_bytes: number;
  state: Transfer['state'];
  reason: string | null;
  mb_per_s: number | null;
  avg_mb_per_s: number | null;
  path: string | null;
};

// Bytes done: chunks done times the chunk size, the last chunk being short. A completed
// transfer is done whole, whatever progress its last batch reported.
export function doneBytes(t: Transfer): number {
  if (t.state === 'completed') return t.size;
  return Math.min(t.doneCount * t.chunkSize, t.size);
}

// 10^6 bytes per second, to the kB/s. => mbPerS(3_000_000, 1500) === 2
function mbPerS(bytes: number, ms: number): number | null {
  if (bytes <= 0 || ms <= 0) return null;
  return Math.round(bytes / ms) / 1000;
}

// A transfer as `parley transfers --json` prints it.
//
// avg_mb_per_s: the bytes done over the time the transfer was active up to the view's last
// update of it (activeMsOf): the wait for an acceptance and the pauses do not count. Null while
// nothing is done.
//
// mb_per_s: null unless the transfer is active; then the rate of the last seconds that the
// running client's engine measures (`rate`, bytes per second: node/speeds.ts), or 0 when it saw
// nothing move (no client runs on the profile, or nothing came yet).
export function transferRow(t: Transfer, rate: number | null = null): TransferRow {
  const done = doneBytes(t);
  const avg = mbPerS(done, activeMsOf(t));
  const live = t.state !== 'active' ? null : (mbPerS(rate ?? 0, 1000) ?? 0);
  return {
    seq: t.seq,
    id: t.id,
    peer: t.peer,
    direction: t.direction,
    name: t.name,
    size: t.size,
    done,
    wire_bytes: t.wireBytes,
    state: t.state,
    reason: t.state === 'failed' || t.state === 'cancelled' || t.state === 'declined' ? t.reason ?? '' : null,
    mb_per_s: live,
    avg_mb_per_s: avg,
    path: t.path,
  };
}

// Names and reasons come from peers: a character a terminal would obey (C0, DEL, C1) or one that
// turns text around (bidi controls) is shown as its \uXXXX escape (oneLine, as the console shows
// them). In JSON that is the same string, escaped; in the table, a visible mark.
// JSON.stringify leaves C1 and bidi controls raw: inside strings (the only place they can be),
// their escapes read back as the same value.
function jsonLine(value: unknown): string {
  return oneLine(JSON.stringify(value)) + '\n';
}

function percentOf(r: TransferRow): number {
  if (r.size === 0) return r.state === 'completed' ? 100 : 0;
  // Floor: 99.9% is not done.
  return Math.floor((r.done * 100) / r.size);
}

// One line of the table: id, arrow and peer, name, size, percent, state, speeds.
// => 'a3f09c2e7b41d580  → Bob  report.pdf  12.4 MB  45%  active  3.2 MB/s (avg 2.9 MB/s)'
function tableLine(r: TransferRow, peer: string): string {
  const arrow = r.direction === 'out' ? `→ ${peer}` : `← ${peer}`;
  const state = r.reason !== null && r.reason !== '' ? `${r.state}: ${oneLine(r.reason)}` : r.state;
  const speeds = [r.mb_per_s !== null ? `${r.mb_per_s} MB/s` : null, r.avg_mb_per_s !== null ? `avg ${r.avg_mb_per_s} MB/s` : null].filter((s) => s !== null).join(', ');
  return [oneLine(r.id), arrow, oneLine(r.name), sizeText(r.size), `${percentOf(r)}%`, state, speeds].filter((s) => s !== '').join('  ');
}

function parseTransferId(text: string): string {
  if (!ID.test(text)) throw badInput('BAD_ID', `a transfer id is 1 to 64 printable characters, got "${oneLine(text.slice(0, 64))}"`);
  return text;
}

function parseDirection(text: string | undefined): Direction | undefined {
  if (text === undefined || text === 'in' || text === 'out') return text;
  throw badInput('BAD_DIRECTION', `--direction is in or out, got "${oneLine(text.slice(0, 20))}"`);
}

// What is said on stderr after an answer or a cancel: it reaches the peer when both run.
function printWhenAnswerGoes(profile: Profile, peer: number): void {
  const name = peerName(profile, peer);
  const waits = waitsFor(peer);
  if (waits === 'my-client') printError(`parley: ${name} learns it when your client (parley up) and theirs are both running`);
  else if (waits === 'peer') printError(`parley: ${name} is offline: they learn it when their client is up`);
}

// What accept, decline and cancel each do with the transfer named.
type Intent = {
  // Whose transfers it may name: offers to me (accept, decline), or either side (cancel).
  direction: Direction | undefined;
  fits: (t: Transfer) => boolean;
  // Why the one transfer with that id does not fit; `side` => 'from Bob (5)'.
  unfit: (t: Transfer, side: string) => string;
  // The event journaled and what is printed, after any check of its own.
  answer: (profile: Profile, t: Transfer) => Promise<{ event: NewEvent; json: object; line: string }>;
};

// accept, decline and cancel: the id and --peer checked, then the command's own options
// (`intentOf`, in that order, so the first bad argument is the one said), the one transfer named
// found (transfer-lookup.ts), the intent journaled and printed, and when it reaches the peer.
async function journalIntent(cmd: Command, tid: string, opts: { peer?: string; json?: boolean }, intentOf: (id: string) => Intent): Promise<void> {
  const id = parseTransferId(tid);
  const peer = opts.peer === undefined ? undefined : parseId(opts.peer, 'peer id');
  const intent = intentOf(id);
  await withProfile(cmd, async (profile) => {
    const t = await oneTransfer(profile, id, { peer, direction: intent.direction }, intent.fits, (x) => intent.unfit(x, sideOf(profile, x)));
    const { event, json, line } = await intent.answer(profile, t);
    await profile.append(event);
    if (opts.json) printJson(json);
    else printLine(line);
    printWhenAnswerGoes(profile, t.peer);
  });
}

export function registerTransferCommands(program: Command): void {
  // --limit and --before are the parent's own: commander would otherwise hand them to the
  // subcommands (common.ts, profileOptions).
  const transfers = profileOptions(program.command('transfers').description('files sent and received, newest first'))
    .option('--limit <n>', 'only the N newest (before --before)')
    .option('--before <seq>', 'only transfers offered before this seq (the seq of the last one shown)')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { limit?: string; before?: string; json?: boolean }, cmd: Command) => {
      const limit = opts.limit === undefined ? undefined : parseCount(opts.limit, '--limit');
      const before = opts.before === undefined ? undefined : parseCount(opts.before, '--before');
      await withProfile(
        cmd,
        async (profile) => {
          const now = Date.now();
          const meter = runningMeter(profile);
          let shown = 0;
          let next = before;
          for (;;) {
            const want = limit === undefined ? PAGE : Math.min(PAGE, limit - shown);
            const page = want > 0 ? await profile.transfers({ limit: want, before: next }) : [];
            let out = '';
            for (const t of page) {
              const row = transferRow(t, meter?.rate(t.peer, t.direction, t.id, now) ?? null);
              out += opts.json ? jsonLine(row) : tableLine(row, peerName(profile, t.peer)) + '\n';
            }
            await writeOut(out);
            shown += page.length;
            if (page.length < want || page.length === 0) break;
            next = page[page.length - 1].seq;
          }
          if (!opts.json && shown === 0) printLine('no transfers');
        },
        { readOnly: true },
      );
    });

  profileOptions(transfers.command('accept').description('take a file offered to you, into the downloads folder').argument('<tid>', 'the transfer'))
    .option('--peer <id>', 'the contact who offered it (when several offered this id)')
    .option('--json', 'print {"id","peer","state","path"}')
    .action(async (tid: string, opts: { peer?: string; json?: boolean }, cmd: Command) => {
      await journalIntent(cmd, tid, opts, (id) => ({
        direction: 'in',
        fits: (x) => x.state === 'offered',
        unfit: (x, side) => `transfer ${id} ${side} is ${x.state}: only an offer can be accepted`,
        answer: async (profile, t) => {
          // The receiver refuses such an offer itself; a name that got into the view all the
          // same never becomes a path outside the downloads folder.
          const refused = checkFileName(t.name);
          if (refused !== null) throw badInput('BAD_FILE_NAME', `transfer ${id} cannot be accepted: ${refused}; decline it`);
          // The folder is made now, so that a folder that cannot be is said here, not by a failed
          // transfer. The engine gives the file a free name when it is complete (node/filename.ts).
          const dir = await downloadsDir(settingsOf(profile.views.settings), profile.home);
          const target = path.join(dir, t.name);
          return {
            event: { type: 'transfer.accepted', id, peer: t.peer, direction: 'in', path: target },
            json: { id, peer: t.peer, state: 'active', path: target },
            line: `${id} accepted: it goes to ${target}`,
          };
        },
      }));
    });

  profileOptions(transfers.command('decline').description('refuse a file offered to you; the sender is told why').argument('<tid>', 'the transfer'))
    .option('--peer <id>', 'the contact who offered it (when several offered this id)')
    .option('--reason <text>', 'what the sender is told')
    .option('--json', 'print {"id","peer","state","reason"}')
    .action(async (tid: string, opts: { peer?: string; reason?: string; json?: boolean }, cmd: Command) => {
      await journalIntent(cmd, tid, opts, (id) => {
        // It is sent to the peer and shown on its terminal: the wire's rule for reasons.
        const reason = opts.reason === undefined ? 'no reason given' : opts.reason.trim();
        if (reason.length === 0 || reason.length > LIMITS.MAX_REASON_LENGTH || hasControlChars(reason)) {
          throw badInput('BAD_REASON', `a reason is 1 to ${LIMITS.MAX_REASON_LENGTH} characters with no control characters`);
        }
        return {
          direction: 'in',
          fits: (x) => x.state === 'offered',
          unfit: (x, side) => `transfer ${id} ${side} is ${x.state}: only an offer can be declined${x.state === 'active' || x.state === 'paused' ? ' (parley transfers cancel stops it)' : ''}`,
          answer: async (_profile, t) => ({
            event: { type: 'transfer.declined', id, peer: t.peer, direction: 'in', reason },
            json: { id, peer: t.peer, state: 'declined', reason },
            line: `${id} declined`,
          }),
        };
      });
    });

  profileOptions(transfers.command('cancel').description('stop a transfer, sent or received; the other side sees it cancelled').argument('<tid>', 'the transfer'))
    .option('--peer <id>', 'the contact (when several transfers have this id)')
    .option('--direction <in|out>', 'in (offered to you) or out (yours), when both have this id')
    .option('--json', 'print {"id","peer","direction","state"}')
    .action(async (tid: string, opts: { peer?: string; direction?: string; json?: boolean }, cmd: Command) => {
      await journalIntent(cmd, tid, opts, (id) => ({
        direction: parseDirection(opts.direction),
        fits: (x) => !isFinished(x.state),
        unfit: (x, side) => `transfer ${id} ${side} is ${x.state} already: there is nothing to cancel`,
        answer: async (_profile, t) => ({
          event: { type: 'transfer.cancelled', id, peer: t.peer, direction: t.direction, by: 'me' },
          json: { id, peer: t.peer, direction: t.direction, state: 'cancelled' },
          line: `${id} cancelled`,
        }),
      }));
    });
}
