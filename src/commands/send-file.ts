// parley send-file --to ID [--yes] PATH: a file offered to a contact, the offer journaled with
// the quota it spends. Like the transfers commands (transfers.ts), it only journals an intent: the
// running client's transfer engine (node/files.ts) sends the offer and the file.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { badInput, causeText } from '../errors.js';
import { checkFileName } from '../node/filename.js';
import { left, packetsFor, quotaOf } from '../projections/quotas.js';
import { confirmSpend } from './confirm.js';
import { resolvePath } from './io.js';
import { newId, printWhenItGoes } from './messages.js';
import { parseId, printJson, printLine, profileOptions, requireContact, withProfile } from './common.js';

// The chunk size of every offer: large enough that a 100 GB file is 100,000 chunks (a few ranges
// in the view, one SHA-256 each), small enough to be one frame (1 MiB, docs/PROTOCOL.md) and to
// be resent whole without regret.
export const CHUNK_SIZE = 1_048_576;

// The size of the file to send, or exit 2 saying why it cannot be sent. Read here, in the
// caller's process or the client's on the same computer, before anything is journaled.
function sizeOfFileToSend(file: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw badInput('NO_SUCH_FILE', `${file} does not exist`, err);
    throw badInput('UNREADABLE_FILE', `cannot read ${file} (${causeText(err, { code: true })})`, err);
  }
  if (stat.isDirectory()) throw badInput('IS_A_FOLDER', `${file} is a folder: send the files in it one by one, or an archive of it`);
  // Checked before it is opened: opening a named pipe would wait for a writer.
  if (!stat.isFile()) throw badInput('NOT_A_FILE', `${file} is not a regular file (a device, a pipe or a socket): only files can be sent`);
  // Opened, not access()ed: the permission bits do not tell everything (ACLs, a root that may
  // read anything, a file on a network share).
  try {
    fs.closeSync(fs.openSync(file, 'r'));
  } catch (err) {
    throw badInput('UNREADABLE_FILE', `cannot read ${file} (${causeText(err, { code: true })}): check its permissions`, err);
  }
  return stat.size;
}

export function registerSendFileCommand(program: Command): void {
  profileOptions(program.command('send-file').description('offer a file to a contact').argument('<path>', 'the file'))
    .requiredOption('--to <id>', 'the contact')
    .option('--yes', 'offer a file larger than one packet (65,535 bytes) without asking (asked on a terminal, exit 5 elsewhere)')
    .option('--json', 'print {"id","state"}')
    .action(async (fileArg: string, opts: { to: string; yes?: boolean; json?: boolean }, cmd: Command) => {
      const peer = parseId(opts.to, 'contact id');
      // The caller's working directory, also when the command runs inside the client.
      const file = resolvePath(fileArg);
      const size = sizeOfFileToSend(file);
      // The name the receiver will see and check: refused here rather than by a declined offer.
      // TODO(issue 11): the receiver (node/files.ts) refuses offers with this same
      // checkFileName; test both against one table once it does.
      const name = path.basename(file);
      const refused = checkFileName(name);
      if (refused !== null) throw badInput('BAD_FILE_NAME', `the receiver would refuse this file's name: ${refused}; send a copy under another name`);
      const packets = packetsFor(size);
      const yes = await confirmSpend({
        packets,
        yes: opts.yes === true,
        mayAsk: true,
        question: `This file takes ${packets} packet${packets === 1 ? '' : 's'} of your file limit with ${peer}. Send it? [y/N] `,
        refusal: `this file takes ${packets} packet${packets === 1 ? '' : 's'} of your file limit with ${peer}: add --yes to send it`,
      });
      const argv = ['send-file', '--to', String(peer), ...(yes ? ['--yes'] : []), ...(opts.json ? ['--json'] : []), '--', file];
      await withProfile(
        cmd,
        async (profile) => {
          requireContact(profile, peer);
          const room = left(quotaOf(profile.views.quotas, peer).outbound.files);
          const id = newId();
          // Spent with the offer, in one batch: never an offer without its spend, nor a spend
          // without its offer. The engine sends the offer once the contact's grant covers it.
          await profile.appendMany([
            { type: 'quota.spent', peer, direction: 'outbound', kind: 'files', n: packets, ref: id },
            { type: 'transfer.offered', id, peer, direction: 'out', name, size, chunkSize: CHUNK_SIZE, path: file },
          ]);
          if (opts.json) printJson({ id, state: 'offered' });
          else printLine(`${id} offered`);
          printWhenItGoes(profile, peer, { what: 'file', room, packets });
        },
        { argv },
      );
    });
}
