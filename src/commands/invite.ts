// parley invite: the invite string of this profile (docs/PROTOCOL.md section 12), printed as the
// last line so that a script takes it with `tail -n 1`. It holds the id, the key fingerprint the
// other side pins, this machine's addresses, the port the client listens on, and a new one-time
// token: whoever presents it first at the link is pinned by this side (section 14). Give it to one
// person, through a channel you trust to carry it unchanged.
//
// parley connect INVITE [--name N]: the other side. The inviter becomes a whitelisted contact
// pinned to the invite's key, its addresses remembered; the running client dials them at once
// (or the next `parley up` does). No server is needed.
import { createHash, randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { readText } from '../../cert/files.js';
import { badInput, EXIT, parleyError } from '../errors.js';
import type { NewEvent } from '../events/types.js';
import { decodeInvite, encodeInvite, invitableAddresses } from '../net/invite.js';
import { keySha256OfCert } from '../net/tls.js';
import { lanAddresses } from '../node/online.js';
import { hasIdentity, identityFiles } from '../node/identity.js';
import { welcomeEvents } from '../node/trust.js';
import { settingsOf } from '../projections/settings.js';
import { checkName } from './contacts.js';
import { homeOf, printJson, printLine, profileOptions, withProfile } from './common.js';
import { clientState } from './io.js';

type InviteOpts = { port?: string; address: string[]; name?: string; json?: boolean };

// How long an invite's token lets someone in: time to pass it on and for them to connect.
const INVITE_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

export function registerInviteCommands(program: Command): void {
  profileOptions(program.command('invite').description('print an invite for this profile as the last line: the other side connects with it, no server needed'))
    .option('--port <n>', 'the port your client listens on for peers (default: the running client\'s)')
    .option('--address <ip>', 'an IPv4 or IPv6 address to put in the invite instead of this machine\'s own (repeatable)', collect, [])
    .option('--name <name>', 'how the person who connects with it will be shown to you')
    .option('--json', 'one JSON object: invite, id, key_sha256, port, addresses, expires_at')
    .action(async (opts: InviteOpts, cmd: Command) => invite(cmd, opts));

  profileOptions(program.command('connect').description('connect with an invite: the inviter becomes a contact pinned to its key, dialled with no server').argument('<invite>', 'the parley1:... string'))
    .option('--name <name>', 'how the inviter is shown (default: its id)')
    .option('--json', 'print {"id","name","key_sha256","addresses","port","dialling"}')
    .action(async (text: string, opts: { name?: string; json?: boolean }, cmd: Command) => connect(cmd, text, opts));
}

async function invite(cmd: Command, opts: InviteOpts): Promise<void> {
  const home = homeOf(cmd);
  const given = opts.port === undefined ? undefined : parsePort(opts.port);
  const name = opts.name === undefined ? undefined : checkName(opts.name);
  if (!hasIdentity(home)) throw badInput('NO_IDENTITY', `${home} holds no profile: make one with parley init --home ${home}`);
  // Given addresses are checked one by one, so a typo is named; found ones are filtered quietly.
  const addresses = opts.address.length > 0 ? opts.address.map((a) => a.trim()) : invitableAddresses(lanAddresses());
  if (addresses.length === 0) {
    throw badInput('NO_ADDRESS', 'this machine has no network address another computer could dial: connect it to a network, or give --address IP');
  }
  const keySha256 = keySha256OfCert(readText(identityFiles(home).certFile, 'certificate'));
  const token = randomBytes(16).toString('hex');
  await withProfile(cmd, async (profile) => {
    const id = profile.views.identity.id;
    if (id === null) throw badInput('NO_ID', `${home} has no id yet: a profile for a server gets it at its first login (parley up --home ${home})`);
    // Run inside the client (the command is forwarded to it while it runs): its listener's port.
    const running = clientState()?.listenPort ?? 0;
    const port = given ?? (running > 0 ? running : null);
    if (port === null) throw badInput('NO_PORT', `give --port N, or start the client first (parley up --home ${home}): the invite needs the port it listens on`);
    const text = encodeInvite({ id, keySha256, port, addresses, token });
    const until = Date.now() + INVITE_DAYS * DAY_MS;
    await profile.append({ type: 'invite.issued', tokenSha256: createHash('sha256').update(Buffer.from(token, 'hex')).digest('hex'), until, ...(name !== undefined ? { name } : {}) });
    if (opts.json) return printJson({ invite: text, id, key_sha256: keySha256, port, addresses, expires_at: new Date(until).toISOString() });
    printLine(`invite for id ${id}, key ${keySha256}, port ${port}, at ${addresses.join(', ')}`);
    printLine(`give the next line to one person only: it lets the first who uses it in, until ${new Date(until).toISOString().slice(0, 10)}:`);
    printLine(text);
  });
}

async function connect(cmd: Command, text: string, opts: { name?: string; json?: boolean }): Promise<void> {
  const inv = decodeInvite(text);
  const name = opts.name === undefined ? undefined : checkName(opts.name);
  await withProfile(cmd, async (profile) => {
    const v = profile.views;
    if (inv.id === v.identity.id) throw parleyError('PEER_SELF', 'this invite is your own: give it to the person you invite', EXIT.PEER);
    const known = v.contacts[inv.id];
    const events: NewEvent[] = [
      ...welcomeEvents({ contacts: v.contacts, quotas: v.quotas, settings: settingsOf(v.settings) }, inv.id, name ?? known?.name ?? String(inv.id)),
      { type: 'contact.pinned', peer: inv.id, keySha256: inv.keySha256, by: 'invite' },
      { type: 'contact.located', peer: inv.id, addresses: inv.addresses, port: inv.port, ...(inv.token !== undefined ? { token: inv.token } : {}) },
    ];
    // An invite pins outright, as a pin by hand does: a different key pinned before is said aloud.
    const before = known?.pin?.keySha256;
    await profile.appendMany(events);
    const running = clientState() !== undefined;
    const c = profile.views.contacts[inv.id];
    if (opts.json) return printJson({ id: c.id, name: c.name, key_sha256: inv.keySha256, addresses: inv.addresses, port: inv.port, dialling: running });
    if (before && before !== inv.keySha256) printLine(`note: ${c.name} (${c.id}) was pinned to key ${before}; this invite pins ${inv.keySha256}`);
    printLine(`${known ? 'updated' : 'added'} contact ${c.id} (${c.name}), pinned to key ${inv.keySha256}`);
    printLine(running ? `dialling ${inv.addresses.join(', ')} port ${inv.port}` : `parley up dials ${inv.addresses.join(', ')} port ${inv.port}`);
  });
}

function parsePort(text: string): number {
  const port = Number(text.trim());
  if (!/^[0-9]+$/.test(text.trim()) || port < 1 || port > 65535) throw badInput('BAD_PORT', `--port must be a whole number from 1 to 65535, got "${text}"`);
  return port;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
