// parley contacts [--json]; parley contacts add ID --name NAME
import type { Command } from 'commander';
import { badInput } from '../errors.js';
import type { NewEvent } from '../events/types.js';
import { hasControlChars } from '../net/text.js';
import type { Contact } from '../projections/contacts.js';
import { inboundGrants, quotaOf } from '../projections/quotas.js';
import { settingsOf } from '../projections/settings.js';
import { parseId, printJson, printLine, profileOptions, withProfile } from './common.js';


// What `contacts --json` and `contacts add --json` print of a contact.
function contactRow(c: Contact): Omit<Contact, 'addedAt'> {
  return { id: c.id, name: c.name, folder: c.folder, whitelisted: c.whitelisted, blocked: c.blocked };
}

export function registerContactsCommands(program: Command): void {
  const contacts = profileOptions(program.command('contacts').description('list contacts, or add one'))
    .option('--json', 'one JSON object per line')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withProfile(cmd, async (profile) => {
        const list = Object.values(profile.views.contacts).sort((a, b) => a.id - b.id);
        for (const c of list) {
          const row = contactRow(c);
          if (opts.json) printJson(row);
          else printLine(`${c.id}\t${c.name}\t${c.folder}${c.whitelisted ? '\twhitelisted' : ''}${c.blocked ? '\tblocked' : ''}`);
        }
        if (!opts.json && list.length === 0) printLine('no contacts yet: parley contacts add ID --name NAME');
      }, { readOnly: true });
    });

  profileOptions(contacts.command('add').description('add a contact (it is whitelisted)').argument('<id>', 'the contact\'s id, 1 to 2^40-1'))
    .requiredOption('--name <name>', 'how the contact is shown')
    .option('--json', 'print the contact as JSON')
    .action(async (idText: string, opts: { name: string; json?: boolean }, cmd: Command) => {
      const peer = parseId(idText, 'contact id');
      const name = opts.name.trim();
      // The wire's rule (C0, DEL and C1): a name is shown on terminals, as a peer's reason is.
      if (name.length === 0 || name.length > 100 || hasControlChars(name)) {
        throw badInput('BAD_NAME', 'a contact name must be 1 to 100 characters with no control characters (U+0000-U+001F, U+007F-U+009F)');
      }
      await withProfile(cmd, async (profile) => {
        const known = profile.views.contacts[peer];
        if (known) {
          // One batch, one sync: both changes or neither.
          const changes: NewEvent[] = [];
          if (known.name !== name) changes.push({ type: 'contact.renamed', peer, name });
          if (!known.whitelisted) changes.push({ type: 'contact.whitelisted', peer, whitelisted: true });
          await profile.appendMany(changes);
        } else {
          // The first grant is the settings' default-quota-* (1000 each unless set).
          const q = quotaOf(profile.views.quotas, peer).inbound;
          const d = settingsOf(profile.views.settings);
          await profile.appendMany([
            { type: 'contact.added', peer, name, whitelisted: true },
            ...inboundGrants(peer, {
              messages: q.messages.granted === 0 ? d['default-quota-messages'] : 0,
              files: q.files.granted === 0 ? d['default-quota-files'] : 0,
            }),
          ]);
        }
        const c = profile.views.contacts[peer];
        const row = contactRow(c);
        if (opts.json) printJson(row);
        else printLine(`${known ? 'updated' : 'added'} contact ${c.id} (${c.name})`);
      });
    });
}
