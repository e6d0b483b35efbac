// parley contacts [--json]; contacts add ID --name NAME; contacts remove ID; contacts block ID;
// contacts move ID main|spam;
// parley requests [--json]; requests accept|refuse ID
import type { Command } from 'commander';
import { badInput, EXIT, parleyError } from '../errors.js';
import { hasControlChars } from '../net/text.js';
import { decideMove, decideRemove, FOLDERS, isFolder, type Contact } from '../projections/contacts.js';
import { settingsOf } from '../projections/settings.js';
import { parseId, peerName, printJson, printLine, profileOptions, requireContact, requireKnownPeer, withProfile } from './common.js';
import { normalKeySha256 } from '../../cert/keys.js';
import { keyWarningRow, keyWarningText } from '../node/status.js';
import { unacknowledged } from '../node/outbox.js';
import type { Profile } from '../node/profile.js';
import { pendingRequests } from '../projections/requests.js';
import { welcomeEvents } from '../node/trust.js';


// What `contacts --json` and `contacts add --json` print of a contact: the pinned key and a
// refused one only when there are (docs/PROTOCOL.md section 14).
export function contactRow(c: Contact): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    folder: c.folder,
    whitelisted: c.whitelisted,
    blocked: c.blocked,
    ...(c.pin ? { key_sha256: c.pin.keySha256, pinned_by: c.pin.by } : {}),
    ...(c.location ? { addresses: c.location.addresses, port: c.location.port } : {}),
    ...(c.keyWarning ? { key_warning: keyWarningRow(c.keyWarning) } : {}),
  };
}

export function registerContactsCommands(program: Command): void {
  const contacts = profileOptions(program.command('contacts').description('list contacts, or add, remove or block one'))
    .option('--json', 'one JSON object per line')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withProfile(cmd, async (profile) => {
        const list = Object.values(profile.views.contacts).sort((a, b) => a.id - b.id);
        for (const c of list) {
          const row = contactRow(c);
          if (opts.json) printJson(row);
          else printLine(`${c.id}\t${c.name}\t${c.folder}${c.whitelisted ? '\twhitelisted' : ''}${c.blocked ? '\tblocked' : ''}${c.pin ? `\tkey ${c.pin.keySha256.slice(0, 16)}…` : ''}`);
        }
        if (!opts.json) for (const c of list) if (c.keyWarning) printLine(keyWarningText(c));
        if (!opts.json && list.length === 0) printLine('no contacts yet: parley contacts add ID --name NAME');
      }, { readOnly: true });
    });

  profileOptions(contacts.command('add').description('add a contact (it is whitelisted)').argument('<id>', 'the contact\'s id, 1 to 2^40-1'))
    .requiredOption('--name <name>', 'how the contact is shown')
    .option('--json', 'print the contact as JSON')
    .action(async (idText: string, opts: { name: string; json?: boolean }, cmd: Command) => {
      const peer = parseId(idText, 'contact id');
      const name = checkName(opts.name);
      await withProfile(cmd, async (profile) => {
        const known = profile.views.contacts[peer];
        await welcome(profile, peer, name);
        const c = profile.views.contacts[peer];
        const row = contactRow(c);
        if (opts.json) printJson(row);
        else printLine(`${known ? 'updated' : 'added'} contact ${c.id} (${c.name})`);
      });
    });

  // A pin by hand (section 14): the key a person checked with the contact, replacing any other;
  // it answers a warning about a refused key.
  profileOptions(contacts.command('pin').description('pin a contact to a key fingerprint: links with any other key are refused').argument('<id>', 'the contact\'s id').argument('<key>', 'the SHA-256 of its public key, 64 hex characters (colons allowed)'))
    .action(async (idText: string, keyText: string, _opts: unknown, cmd: Command) => {
      const peer = parseId(idText, 'contact id');
      const keySha256 = normalKeySha256(keyText);
      if (keySha256 === null) throw badInput('BAD_KEY', `a key fingerprint is 64 hex characters (the SHA-256 of the public key), got "${keyText.slice(0, 80)}"`);
      await withProfile(cmd, async (profile) => {
        requireContact(profile, peer);
        await profile.append({ type: 'contact.pinned', peer, keySha256, by: 'hand' });
        printLine(`${peerName(profile, peer)} (${peer}) is pinned to key ${keySha256}`);
      });
    });

  // The chat and the quota events stay: added again, the contact finds its history (and its
  // grants: contacts add gives the default grant only to a peer that never had one).
  profileOptions(contacts.command('remove').description('take a contact off your list: the chat stays, messages not yet delivered fail').argument('<id>', 'the contact\'s id'))
    .option('--json', 'print {"id","removed","failed","blocked"}')
    .action(async (idText: string, opts: { json?: boolean }, cmd: Command) => {
      const peer = parseId(idText, 'contact id');
      await withProfile(cmd, async (profile) => {
        const name = peerName(profile, peer);
        const events = decideRemove(profile.views.contacts, peer, await unacknowledged(profile, peer));
        if (!events) throw parleyError('UNKNOWN_PEER', `${peer} is not one of your contacts (parley contacts lists them)`, EXIT.PEER);
        await profile.appendMany(events);
        const failed = events.length - 1;
        const blocked = profile.views.contacts[peer]?.blocked === true;
        if (opts.json) return printJson({ id: peer, removed: true, failed, blocked });
        printLine(`${name} (${peer}) removed from your contacts${failed > 0 ? `; ${failed} message(s) not delivered will not be sent` : ''}`);
        if (blocked) printLine(`${peer} stays blocked: parley contacts block ${peer} --undo lets it in`);
        // Opened as a command that only reads: where there is no profile there is no contact, and
        // the refusal must not leave an empty profile behind (a mistyped --home).
      }, { readOnly: true });
    });

  profileOptions(contacts.command('block').description('keep a contact away: no introduction, no message').argument('<id>', 'the contact\'s id'))
    .option('--undo', 'let it in again')
    .action(async (idText: string, opts: { undo?: boolean }, cmd: Command) => {
      const peer = parseId(idText, 'contact id');
      await withProfile(cmd, async (profile) => {
        requireKnownPeer(profile, peer);
        const blocked = !opts.undo;
        if (profile.views.contacts[peer]?.blocked !== blocked) await profile.append({ type: 'contact.blocked', peer, blocked });
        printLine(`${peerName(profile, peer)} ${blocked ? 'is blocked' : 'is not blocked any more'}`);
      });
    });

  // Where the chat is listed, nothing else: a contact in spam still writes, and its messages are
  // stored as before (the UI shows them in the spam folder).
  profileOptions(contacts.command('move').description('move a contact to another folder: main or spam').argument('<id>', 'the contact\'s id').argument('<folder>', FOLDERS.join(' or ')))
    .option('--json', 'print the contact as JSON')
    .action(async (idText: string, folder: string, opts: { json?: boolean }, cmd: Command) => {
      const peer = parseId(idText, 'contact id');
      // eslint-disable-next-line no-control-regex
      if (!isFolder(folder)) throw badInput('BAD_FOLDER', `the folder must be ${FOLDERS.join(' or ')}, got "${[...folder].slice(0, 40).join('').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}"`);
      await withProfile(cmd, async (profile) => {
        requireContact(profile, peer);
        const change = decideMove(profile.views.contacts, peer, folder);
        if (change) await profile.append(change);
        const c = profile.views.contacts[peer];
        if (opts.json) printJson(contactRow(c));
        else printLine(`${c.name} (${peer}) ${change ? 'moved to' : 'is in'} ${folder}${change ? '' : ' already'}`);
        // Read-only until the check passes: an unknown id leaves no empty profile behind.
      }, { readOnly: true });
    });

  const requestsCmd = profileOptions(program.command('requests').description('who asked to talk to you: accept or refuse them'))
    .option('--json', 'one JSON object per line: {"id","name","at"}')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withProfile(cmd, async (profile) => {
        const list = pendingRequests(profile.views.requests);
        for (const r of list) {
          const row = { id: r.peer, name: peerName(profile, r.peer), at: new Date(r.at).toISOString() };
          if (opts.json) printJson(row);
          else printLine(`${row.id}\t${row.name}\t${row.at}`);
        }
        if (!opts.json && list.length === 0) printLine('no requests');
      }, { readOnly: true });
    });

  profileOptions(requestsCmd.command('accept').description('accept a request: the asker becomes a whitelisted contact').argument('<id>', 'the asker\'s id'))
    .option('--name <name>', 'how the contact is shown (default: its id)')
    .action(async (idText: string, opts: { name?: string }, cmd: Command) => {
      const peer = parseId(idText, 'id');
      const name = checkName(opts.name ?? String(peer));
      await withProfile(cmd, async (profile) => {
        if (profile.views.requests[peer]?.state !== 'pending') throw parleyError('NO_REQUEST', `${peer} has not asked to talk to you (parley requests lists who has)`, EXIT.PEER);
        await welcome(profile, peer, profile.views.contacts[peer]?.name ?? name);
        printLine(`${peer} accepted: it may write to you now`);
      });
    });

  profileOptions(requestsCmd.command('refuse').description('refuse a request: the asker is kept away and sees you as refused').argument('<id>', 'the asker\'s id'))
    .action(async (idText: string, _opts: unknown, cmd: Command) => {
      const peer = parseId(idText, 'id');
      await withProfile(cmd, async (profile) => {
        if (profile.views.requests[peer]?.state !== 'pending') throw parleyError('NO_REQUEST', `${peer} has not asked to talk to you (parley requests lists who has)`, EXIT.PEER);
        await profile.append({ type: 'contact.refused', peer });
        printLine(`${peer} refused`);
      });
    });
}

// Adds a whitelisted contact (or whitelists and renames a known one), with the first grant from
// the settings' default-quota-* when it has none yet. One batch, one sync.
export async function welcome(profile: Profile, peer: number, name: string): Promise<void> {
  const v = profile.views;
  await profile.appendMany(welcomeEvents({ contacts: v.contacts, quotas: v.quotas, settings: settingsOf(v.settings) }, peer, name));
}

// The wire's rule (C0, DEL and C1): a name is shown on terminals, as a peer's reason is.
export function checkName(text: string): string {
  const name = text.trim();
  if (name.length === 0 || name.length > 100 || hasControlChars(name)) {
    throw badInput('BAD_NAME', 'a contact name must be 1 to 100 characters with no control characters (U+0000-U+001F, U+007F-U+009F)');
  }
  return name;
}
