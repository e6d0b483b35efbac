// parley journal inspect [--type TYPE] [--since SEQ] [--json]; parley journal rebuild
import type { Command } from 'commander';
import { badInput, EXIT, parleyError } from '../errors.js';
import { isKnownType, type Stored } from '../events/types.js';
import { parseCount, printError, printJson, printLine, profileOptions, withProfile, rebuildProgress, writeOut } from './common.js';
import { clientProfile } from './io.js';

// {"seq","at","type",...fields}: seq, at and type first, then the event's own fields.
export function inspectRow(e: Stored): Record<string, unknown> {
  const { seq, at, type, ...rest } = e as Stored & Record<string, unknown>;
  return { seq, at, type, ...rest };
}

export function registerJournalCommands(program: Command): void {
  const journal = profileOptions(program.command('journal').description('look at the journal itself'));

  profileOptions(journal.command('inspect').description('print the events of the journal'))
    .option('--type <type>', 'only events of this type, e.g. message.sent')
    .option('--since <seq>', 'from this sequence number on (inclusive)')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { type?: string; since?: string; json?: boolean }, cmd: Command) => {
      if (opts.type !== undefined && !isKnownType(opts.type)) throw badInput('BAD_TYPE', `unknown event type "${opts.type}" (for example message.sent, quota.granted)`);
      const since = opts.since === undefined ? 1 : parseCount(opts.since, '--since');
      let bad = 0;
      await withProfile(cmd, async (profile) => {
        let out = '';
        // A page of the journal at a time, waiting while the pipe is full: flat memory for a
        // journal of any length.
        for await (const e of profile.journal.read({
          since,
          onCorrupt: (err, seq) => {
            bad++;
            printError(`parley: event ${seq} cannot be read: ${err.message}`);
          },
        })) {
          if (opts.type !== undefined && e.type !== opts.type) continue;
          const row = inspectRow(e);
          if (opts.json) out += JSON.stringify(row) + '\n';
          else {
            const { seq, at, type, ...fields } = row;
            out += `${seq}\t${new Date(at as number).toISOString()}\t${type}\t${JSON.stringify(fields)}\n`;
          }
          if (out.length > 64 * 1024) {
            await writeOut(out);
            out = '';
          }
        }
        await writeOut(out);
      }, { readOnly: true });
      if (bad > 0) printError(`parley: ${bad} event(s) could not be read; the others are shown`);
    });

  profileOptions(journal.command('rebuild').description('rebuild every projection from the journal'))
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withProfile(cmd, async (profile) => {
        // In a running client the views would be dropped and derived again while its links append
        // to them: a rebuild needs the profile to itself.
        if (clientProfile()) throw parleyError('CLIENT_RUNNING', `a client runs on ${profile.home}: stop it (Ctrl+C where parley up runs) and run journal rebuild again`, EXIT.BUSY);
        const started = performance.now();
        await profile.rebuild(rebuildProgress());
        const ms = Math.round(performance.now() - started);
        const result = { events: profile.journal.lastSeq(), skipped: profile.skipped.length, ms };
        if (opts.json) printJson(result);
        else printLine(`rebuilt the projections from ${result.events} events in ${ms} ms${result.skipped ? `, ${result.skipped} unreadable event(s) skipped` : ''}`);
      }, { readOnly: true });
    });
}
