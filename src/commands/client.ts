// parley init, parley up, parley status: a profile tied to an operator's server, the client that
// runs on it, and what it knows of itself and its contacts.
import type { Command } from 'commander';
import { ENV } from '../../cert/constants.js';
import { obtainPassword } from '../../cert/password.js';
import { badInput, EXIT, parleyError } from '../errors.js';
import { setKeylog } from '../net/keylog.js';
import { hasControlChars } from '../net/text.js';
import { startClient, type ClientState, type RunningClient } from '../node/client.js';
import { hasRunningClient, isClientAnswering, type RunCommand } from '../node/control.js';
import { createSelfSignedIdentity, hasIdentity, installIdentity, loadHomeIdentity, NAME_SETTING, SERVER_SETTING } from '../node/identity.js';
import { parseServerList, serverListText } from '../node/servers.js';
import { certNotAfter, keyWarningText, statusRow, type StatusRow } from '../node/status.js';
import type { Profile } from '../node/profile.js';
import type { Identity } from '../net/tls.js';
import type { CommandIo } from './io.js';
import { clientState, resolvePath } from './io.js';
import { catchSignals } from './signals.js';
import { homeOf, printError, printJson, printLine, profileOptions, withProfile } from './common.js';

// How `up` runs a command sent to it: the commander program, on the client's profile (cli.ts).
export type RunInClient = (client: NonNullable<CommandIo['client']>, argv: string[], io: Omit<CommandIo, 'client'>) => Promise<number>;

const DAY_MS = 24 * 60 * 60 * 1000;
// From this long before the certificate expires, status warns every day (by the server's clock).
const CERT_WARNING_MS = 30 * DAY_MS;

type InitOpts = { name?: string; server?: string; ca?: string; cert?: string; key?: string; passwordFile?: string; json?: boolean };

// The options of a profile for a server: all four, or none for a self-signed profile.
const SERVER_OPTIONS = ['server', 'ca', 'cert', 'key'] as const;

export function registerClientCommands(program: Command, runInClient: RunInClient): void {
  profileOptions(program.command('init').description('make a profile: for an operator\'s server from its CA and your certificate and key, or without them a self-signed one for the LAN and invites'))
    .option('--name <name>', 'your name, as you want it shown')
    .option('--server <host:port,...>', 'the rendezvous server (with --ca, --cert and --key); several processes of one server comma-separated, tried in turn')
    .option('--ca <file>', 'the operator\'s CA certificate (ca.pem)')
    .option('--cert <file>', 'your certificate, signed by that CA with --role client')
    .option('--key <file>', 'your private key (key.pem from parley cert csr)')
    .option('--password-file <file>', `the key password, first line (else ${ENV.KEY_PASSWORD}, else asked; twice for a new key)`)
    .option('--json', 'print the profile as JSON')
    .action(async (opts: InitOpts, cmd: Command) => init(cmd, opts));

  profileOptions(program.command('up').description('run the client: online with the server until Ctrl+C'))
    .option('--password-file <file>', `the key password, first line (else ${ENV.KEY_PASSWORD}, else asked)`)
    .option('--keylog <file>', 'append the TLS secrets of every link to FILE (NSS key log format, for Wireshark): whoever reads it reads your traffic')
    .action(async (opts: { passwordFile?: string; keylog?: string }, cmd: Command) => up(cmd, opts, runInClient));

  profileOptions(program.command('status').description('who you are, the server, your contacts\' presence'))
    .option('--json', 'one JSON object')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withProfile(cmd, async (profile) => printStatus(profile, homeOf(cmd), clientState(), opts.json === true), { readOnly: true });
    });
}

async function init(cmd: Command, opts: InitOpts): Promise<void> {
  const home = homeOf(cmd);
  const given = SERVER_OPTIONS.filter((o) => opts[o] !== undefined);
  if (given.length > 0 && given.length < SERVER_OPTIONS.length) {
    const missing = SERVER_OPTIONS.filter((o) => opts[o] === undefined).map((o) => `--${o}`);
    throw badInput('INIT_INCOMPLETE', `a profile for a server needs --server, --ca, --cert and --key (missing ${missing.join(', ')}); give none of them for a self-signed profile`);
  }
  const name = opts.name?.trim();
  if (name !== undefined && (name.length === 0 || name.length > 100 || hasControlChars(name))) {
    throw badInput('BAD_NAME', 'a name must be 1 to 100 characters with no control characters');
  }
  if (given.length === 0) return initSelfSigned(cmd, home, name, opts);
  // One HOST:PORT or several, comma-separated (processes of one server, issue 13): journaled as
  // one setting, spaces dropped.
  const server = serverListText(parseServerList(opts.server as string));
  if (hasIdentity(home)) throw badInput('PROFILE_EXISTS', `${home} already holds a profile with a certificate: choose another --home`);
  if (hasRunningClient(home)) throw parleyError('CLIENT_RUNNING', `a client runs on ${home}: stop it first`, EXIT.BUSY);
  const password = await obtainPassword({ what: 'key', file: opts.passwordFile, env: ENV.KEY_PASSWORD });
  const identity = installIdentity(home, { caFile: opts.ca as string, certFile: opts.cert as string, keyFile: opts.key as string }, password);
  await withProfile(cmd, async (profile) => {
    await profile.appendMany([
      { type: 'settings.changed', key: SERVER_SETTING, value: server },
      ...(name !== undefined ? [{ type: 'settings.changed' as const, key: NAME_SETTING, value: name }] : []),
    ]);
  });
  const row = { home, name: name ?? null, server, key_sha256: identity.keySha256, cert_expires_at: new Date(identity.notAfter).toISOString() };
  if (opts.json) printJson(row);
  else printLine(`profile ${home} is ready for ${server} (key ${identity.keySha256.slice(0, 16)}…, certificate until ${row.cert_expires_at.slice(0, 10)}): start it with parley up --home ${home}`);
}

// No operator (issue 10): a new key and a self-signed certificate, the id known at once (the
// first 40 bits of the key's fingerprint, docs/PROTOCOL.md section 4) and journaled as a login
// journals a server's id. The fingerprint is printed whole: it is what a peer pins.
async function initSelfSigned(cmd: Command, home: string, name: string | undefined, opts: InitOpts): Promise<void> {
  if (hasIdentity(home)) throw badInput('PROFILE_EXISTS', `${home} already holds a profile with a certificate: choose another --home`);
  if (hasRunningClient(home)) throw parleyError('CLIENT_RUNNING', `a client runs on ${home}: stop it first`, EXIT.BUSY);
  const password = await obtainPassword({ what: 'key', file: opts.passwordFile, env: ENV.KEY_PASSWORD, confirm: true });
  // The certificate's common name: the name cut to X.520's 64 characters, or a neutral word (a
  // host name would tell every peer which machine this is).
  const made = await createSelfSignedIdentity(home, name !== undefined ? [...name].slice(0, 64).join('').trim() : SELF_SIGNED_CN, password);
  await withProfile(cmd, async (profile) => {
    await profile.appendMany([
      { type: 'identity.created', id: made.id, keySha256: made.keySha256 },
      ...(name !== undefined ? [{ type: 'settings.changed' as const, key: NAME_SETTING, value: name }] : []),
    ]);
  });
  const row = { home, name: name ?? null, server: null, id: made.id, key_sha256: made.keySha256, cert_expires_at: new Date(made.notAfter).toISOString() };
  if (opts.json) return printJson(row);
  printLine(`profile ${home} is ready without a server: id ${made.id}, self-signed until ${row.cert_expires_at.slice(0, 10)}`);
  printLine(`key_sha256 ${made.keySha256}`);
  printLine(`start it with parley up --home ${home}; give others parley invite --home ${home}`);
}

// The checks and the key that `up` and `console` (when no client runs) start a client with: a
// profile with an identity, no client answering on it, the key's password from --password-file,
// PARLEY_KEY_PASSWORD or asked.
export async function identityToStart(home: string, passwordFile: string | undefined): Promise<Identity> {
  if (!hasIdentity(home)) throw badInput('NO_IDENTITY', `${home} holds no profile: make one with parley init --home ${home} --server HOST:PORT --ca FILE --cert FILE --key FILE, or without a server with parley init --home ${home}`);
  if (hasRunningClient(home) && (await isClientAnswering(home))) throw alreadyRunning(home);
  const password = await obtainPassword({ what: 'key', file: passwordFile, env: ENV.KEY_PASSWORD });
  return loadHomeIdentity(home, password);
}

// How long a start waits for a command that holds the profile for a moment (a `parley history`
// run at the same time opens the store itself until a client answers).
const PROFILE_WAIT_MS = 3_000;

// Starts the client on `home`, its commands run by `runInClient`. Exit 3 when another process
// holds the profile: a client (which answers on its socket), or anything else still holding it
// after PROFILE_WAIT_MS.
export async function startOwnClient(home: string, identity: Identity, runInClient: RunInClient, log: (line: string) => void): Promise<RunningClient> {
  let client: RunningClient | null = null;
  const run: RunCommand = (argv, io) => (client ? runInClient({ profile: client.profile, state: client.state }, argv, io) : Promise.resolve(EXIT.BUSY));
  const until = Date.now() + PROFILE_WAIT_MS;
  for (;;) {
    try {
      // PARLEY_NO_LISTEN=1: no listener for direct links (a machine that must not accept inbound
      // connections, and the tests of the relay).
      client = await startClient({ home, identity, run, log, listen: process.env.PARLEY_NO_LISTEN !== '1', lan: true });
      return client;
    } catch (err) {
      if ((err as { code?: string }).code !== 'PROFILE_IN_USE') throw err;
      if (await isClientAnswering(home)) throw alreadyRunning(home);
      if (Date.now() > until) throw parleyError('PROFILE_IN_USE', `${home} is held by another parley command that has not let it go in ${PROFILE_WAIT_MS / 1000} s: try again when it ended`, EXIT.BUSY);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function up(cmd: Command, opts: { passwordFile?: string; keylog?: string }, runInClient: RunInClient): Promise<void> {
  const home = homeOf(cmd);
  const identity = await identityToStart(home, opts.passwordFile);
  if (opts.keylog !== undefined) startKeylog(resolvePath(opts.keylog));
  // Listened to from before the start: a signal that comes while the client starts stops it too.
  const signals = catchSignals();
  try {
    const client = await startOwnClient(home, identity, runInClient, printError);
    printError(`parley: the client runs on ${home}; Ctrl+C stops it`);
    printError(`parley: stopping (${await signals.first()})`);
    await client.close();
  } finally {
    signals.stop();
  }
}

// --keylog: the file opened before any link, and a warning that stays on the screen.
function startKeylog(file: string): void {
  try {
    setKeylog(file);
  } catch (err) {
    throw badInput('KEYLOG_UNWRITABLE', `cannot write the key log ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  printError(`parley: warning: the TLS secrets of every link go to ${file}: whoever reads that file can read your messages and files; delete it when the capture is done`);
}

// The common name of a self-signed certificate made without --name.
const SELF_SIGNED_CN = 'Parley';

function alreadyRunning(home: string): Error {
  return parleyError('CLIENT_RUNNING', `a client already runs on ${home}: its commands reach it, no second one is needed`, EXIT.BUSY);
}

function printStatus(profile: Profile, home: string, state: ClientState | undefined, json: boolean): void {
  const notAfter = certNotAfter(home);
  const row = statusRow(profile, state, notAfter);
  if (json) return printJson(row);
  printLine(`${row.name ?? 'you'}${row.id !== null ? ` (${row.id})` : ' (no id yet: the server gives it at the first login)'}, server ${row.server}${serverWhere(row)}`);
  const now = Date.now() + (state?.clockOffsetMs ?? 0);
  if (notAfter !== null && notAfter - now < CERT_WARNING_MS) {
    const days = Math.max(0, Math.ceil((notAfter - now) / DAY_MS));
    printLine(`warning: your certificate expires in ${days} day(s), on ${row.cert_expires_at?.slice(0, 10)}: ask the operator for a new one`);
  }
  for (const c of row.contacts) printLine(`${c.id}\t${c.name}\t${c.presence}${c.route ? `\t${c.route}` : ''}${c.unread > 0 ? `\t${c.unread} unread` : ''}`);
  for (const c of Object.values(profile.views.contacts)) if (c.keyWarning) printLine(keyWarningText(c));
  if (row.contacts.length === 0) printLine('no contacts yet: parley contacts add ID --name NAME');
}

// After `server online`: the process signed in to, and the list when it names several.
// => ' 127.0.0.1:7401 (of 127.0.0.1:7400,127.0.0.1:7401)', or ' 127.0.0.1:7400' for a list of one
function serverWhere(row: StatusRow): string {
  const list = row.servers.join(',');
  if (row.server_address === null) return list ? ` ${list}` : '';
  return row.servers.length > 1 ? ` ${row.server_address} (of ${list})` : ` ${row.server_address}`;
}
