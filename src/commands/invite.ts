// parley invite: the invite string of this profile (docs/PROTOCOL.md section 12), printed as the
// last line so that a script takes it with `tail -n 1`. It holds nothing secret: the id, the key
// fingerprint the other side pins, this machine's addresses and the port the client listens on.
import type { Command } from 'commander';
import { readText } from '../../cert/files.js';
import { badInput } from '../errors.js';
import { encodeInvite, invitableAddresses } from '../net/invite.js';
import { keySha256OfCert } from '../net/tls.js';
import { lanAddresses } from '../node/client.js';
import { hasIdentity, identityFiles } from '../node/identity.js';
import { homeOf, printJson, printLine, profileOptions, withProfile } from './common.js';

type InviteOpts = { port?: string; address: string[]; json?: boolean };

export function registerInviteCommands(program: Command): void {
  profileOptions(program.command('invite').description('print an invite for this profile as the last line: the other side connects with it, no server needed'))
    // TODO(issue 10): take the running client's listen port when it shows it (ClientState has no
    // listen port yet, and `up` listens on a port the system picks); until then, give it here.
    .option('--port <n>', 'the port your client listens on for peers (1 to 65535)')
    .option('--address <ip>', 'an IPv4 or IPv6 address to put in the invite instead of this machine\'s own (repeatable)', collect, [])
    .option('--json', 'one JSON object: invite, id, key_sha256, port, addresses')
    .action(async (opts: InviteOpts, cmd: Command) => invite(cmd, opts));
}

async function invite(cmd: Command, opts: InviteOpts): Promise<void> {
  const home = homeOf(cmd);
  const port = parsePort(opts.port);
  if (!hasIdentity(home)) throw badInput('NO_IDENTITY', `${home} holds no profile: make one with parley init --home ${home}`);
  // Given addresses are checked one by one, so a typo is named; found ones are filtered quietly.
  const addresses = opts.address.length > 0 ? opts.address.map((a) => a.trim()) : invitableAddresses(lanAddresses());
  if (addresses.length === 0) {
    throw badInput('NO_ADDRESS', 'this machine has no network address another computer could dial: connect it to a network, or give --address IP');
  }
  const keySha256 = keySha256OfCert(readText(identityFiles(home).certFile, 'certificate'));
  const id = await withProfile(cmd, async (profile) => profile.views.identity.id, { readOnly: true });
  if (id === null) throw badInput('NO_ID', `${home} has no id yet: a profile for a server gets it at its first login (parley up --home ${home})`);
  const text = encodeInvite({ id, keySha256, port, addresses });
  if (opts.json) return printJson({ invite: text, id, key_sha256: keySha256, port, addresses });
  printLine(`invite for id ${id}, key ${keySha256}, port ${port}, at ${addresses.join(', ')}`);
  printLine('give the next line to the person you invite; it holds nothing secret:');
  printLine(text);
}

function parsePort(text: string | undefined): number {
  if (text === undefined) throw badInput('NO_PORT', 'give --port N, the port your client listens on for peers (parley up does not show it yet)');
  const port = Number(text.trim());
  if (!/^[0-9]+$/.test(text.trim()) || port < 1 || port > 65535) throw badInput('BAD_PORT', `--port must be a whole number from 1 to 65535, got "${text}"`);
  return port;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
