// `parley demo`: Parley on one machine with one command. A rendezvous server on loopback, a CA
// and certificates made with Parley's own certificate code (no openssl), two profiles that are
// contacts of each other with quotas granted, the echo bot (bot.ts) on the second, and both
// clients up and online in this process; the caller then opens a UI on the first.
//
//   const demo = await startDemo('/tmp/parley-demo');
//   // => { dir, userHome: '/tmp/parley-demo/user', userId: 3, botId: 4, port: 41235, stop }
//   await demo.stop();
//
// Everything lives in the demo's folder, so a second start on it finds the same profiles, chats
// and ids (the server keeps its registry there too):
//
//   DIR/demo.json      the marker of a demo folder, and the server's last port
//   DIR/demo.log       what the server and the two clients note (sessions, links), kept out of
//                      the UI's way
//   DIR/password.txt   the password of every key below (a demo's keys guard nothing else)
//   DIR/pki/           ca.crt ca.key server.crt server.key user.crt user.key bot.crt bot.key
//   DIR/server/        the server's journal
//   DIR/user/, DIR/bot/  the two profiles (`parley ... --home DIR/user` works on them)
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RendezvousServer } from '../../server/server.js';
import { badInput, EXIT, parleyError } from '../errors.js';
import type { NewOf } from '../events/schema.js';
import type { SettingsChanged } from '../events/types.js';
import { loadIdentity } from '../net/tls.js';
import { settingsOf } from '../projections/settings.js';
import { BOT_SETTINGS, startEchoBot, type EchoBot } from './bot.js';
import { startClient, type RunningClient } from './client.js';
import { isClientAnswering, type RunCommand } from './control.js';
import { makeDemoPki, pkiFiles, type DemoPki } from './demo-pki.js';
import { hasIdentity, installIdentity, loadHomeIdentity, NAME_SETTING, SERVER_SETTING } from './identity.js';
import { openProfile, type Profile } from './profile.js';
import { welcomeEvents } from './trust.js';

export const DEMO_MARKER = 'demo.json';
export const BOT_NAME = 'Echo bot';
export const USER_NAME = 'You';

// How long the demo waits for the user's client to see the bot online before it opens the UI
// anyway (a link or the server's presence usually takes well under a second on loopback).
const ONLINE_WAIT_MS = 10_000;

// How a command line runs inside a client: the commander program on that client's profile
// (cli.ts, runInClient), passed in so that this module does not import the program.
export type RunInClient = (client: { profile: Profile; state: RunningClient['state'] }, argv: string[], io: Parameters<RunCommand>[1]) => Promise<number>;

export type DemoOptions = {
  runInClient?: RunInClient;
  // What goes wrong while the demo stops. The clients', the server's and the bot's own notes
  // (an answer that failed) go to DIR/demo.log, out of the UI's way.
  log?: (line: string) => void;
};

export type Demo = {
  dir: string;
  userHome: string;
  userId: number;
  botId: number;
  // The server's address: 127.0.0.1 and the port it got.
  server: string;
  // Stops the bot, both clients and the server; idempotent.
  stop: () => Promise<void>;
};

type Marker = { port: number | null };

// Starts the demo in `dir` (made when missing), or in a new folder under the system's temp
// folder. Refuses a folder that holds something else than a demo (exit 2), and one whose demo
// already runs (exit 3).
export async function startDemo(dir?: string, options: DemoOptions = {}): Promise<Demo> {
  const log = options.log ?? (() => undefined);
  const runInClient = options.runInClient ?? (await import('../cli.js')).runInClient;
  const root = dir !== undefined ? path.resolve(dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'parley-demo-'));
  const marker = claimFolder(root);
  const homes = { user: path.join(root, 'user'), bot: path.join(root, 'bot') };
  for (const home of Object.values(homes)) {
    if (await isClientAnswering(home)) throw parleyError('DEMO_RUNNING', `a demo already runs in ${root}: stop it first (Ctrl+C where it runs)`, EXIT.BUSY);
  }
  const notes = noteFile(path.join(root, 'demo.log'));
  const password = readPassword(root);
  const pki = await makeDemoPki(path.join(root, 'pki'), password);

  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    // Last started, first stopped: the bot, the clients (each clears its chats not kept), then
    // the server they were signed in to.
    for (const s of stops.splice(0).reverse()) await s().catch((err: Error) => log(`parley demo: while stopping: ${err.message}`));
  };
  try {
    const server = await startOn(pki, root, marker.port, notes);
    stops.push(() => server.close());
    const port = server.address().port;
    writeMarker(root, { port });
    const address = `127.0.0.1:${port}`;

    await prepareProfile(homes.user, pki.user, password, address, [{ type: 'settings.changed', key: NAME_SETTING, value: USER_NAME }]);
    await prepareProfile(homes.bot, pki.bot, password, address, [{ type: 'settings.changed', key: NAME_SETTING, value: BOT_NAME }, ...BOT_SETTINGS]);

    const bot = await startOnline(homes.bot, password, runInClient, (line) => notes(`bot: ${line}`));
    stops.push(() => bot.close());
    // Answering before the user's client is up: a message the user sent while the demo was
    // stopped goes as soon as the two link, and is answered too.
    const echo: EchoBot = startEchoBot({ profile: bot.profile, run: runIn(bot, runInClient), log: (line) => notes(`bot: ${line}`) });
    stops.push(() => echo.stop());
    const user = await startOnline(homes.user, password, runInClient, (line) => notes(`user: ${line}`));
    stops.push(() => user.close());
    const botId = bot.state().id as number;
    const userId = user.state().id as number;

    await befriend(user.profile, botId, BOT_NAME);
    await befriend(bot.profile, userId, USER_NAME);
    if (!(await seenOnline(user, botId, ONLINE_WAIT_MS))) log(`parley demo: the bot is not shown online yet; it answers once it is`);
    return { dir: root, userHome: homes.user, userId, botId, server: address, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// The folder is a demo's (its marker), empty, or missing: anything else is someone's files.
function claimFolder(root: string): Marker {
  const file = path.join(root, DEMO_MARKER);
  if (fs.existsSync(file)) {
    try {
      const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Marker;
      return { port: Number.isInteger(m.port) ? m.port : null };
    } catch {
      return { port: null };
    }
  }
  if (fs.existsSync(root) && (!fs.statSync(root).isDirectory() || fs.readdirSync(root).length > 0)) {
    throw badInput('NOT_A_DEMO_FOLDER', `${root} is not empty and holds no demo: give parley demo --home a new or empty folder`);
  }
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  writeMarker(root, { port: null });
  return { port: null };
}

function writeMarker(root: string, marker: Marker): void {
  fs.writeFileSync(path.join(root, DEMO_MARKER), JSON.stringify(marker) + '\n');
}

// A line appended to the demo's log, with its time. Never throws: a note lost is no failure.
function noteFile(file: string): (line: string) => void {
  return (line) => {
    try {
      fs.appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
    } catch {
      // the folder went away under the demo: nothing to note in
    }
  };
}

// The demo's one password, made at its first start: a person who runs `parley up --home
// DIR/user --password-file DIR/password.txt` later finds it there.
function readPassword(root: string): string {
  const file = path.join(root, 'password.txt');
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(12).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return fs.readFileSync(file, 'utf8').trim();
}

// On the port of the last start, so that the profiles' server setting holds; another one when
// that port is taken now (the profiles are then told the new one).
async function startOn(pki: DemoPki, root: string, port: number | null, notes: (line: string) => void): Promise<RendezvousServer> {
  const options = { identity: loadIdentity({ ...pkiFiles(pki, 'server') }), dataDir: path.join(root, 'server'), host: '127.0.0.1', admin: false, log: (line: string) => notes(`server: ${line}`) };
  if (port !== null) {
    try {
      return await startServer({ ...options, port });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  return startServer({ ...options, port: 0 });
}

// A profile for the demo's server: the identity installed once, the server's address and the
// given settings journaled when they differ (the address changes when the port had to).
async function prepareProfile(home: string, files: DemoPki['user'], password: string, address: string, settings: Array<NewOf<SettingsChanged>>): Promise<void> {
  if (!hasIdentity(home)) installIdentity(home, files, password);
  const profile = await openProfile(home);
  try {
    const wanted = [{ type: 'settings.changed' as const, key: SERVER_SETTING, value: address }, ...settings];
    await profile.appendMany(wanted.filter((s) => profile.views.settings[s.key] !== s.value));
  } finally {
    await profile.close();
  }
}

function runIn(client: RunningClient, runInClient: RunInClient): RunCommand {
  return (argv, io) => runInClient({ profile: client.profile, state: client.state }, argv, io);
}

// A client of this process, signed in: refused or unreachable, the demo cannot go on.
async function startOnline(home: string, password: string, runInClient: RunInClient, log: (line: string) => void): Promise<RunningClient> {
  let client: RunningClient | null = null;
  const run: RunCommand = (argv, io) => (client ? runIn(client, runInClient)(argv, io) : Promise.resolve(EXIT.BUSY));
  client = await startClient({ home, identity: loadHomeIdentity(home, password), run, log });
  await client.firstLogin;
  const state = client.state();
  if (state.server !== 'online' || state.id === null) {
    await client.close();
    throw parleyError('DEMO_OFFLINE', `the demo's client in ${home} could not sign in to its server: ${state.lastError ?? 'no answer'}`, EXIT.BUG);
  }
  return client;
}

// What each side grants the other at first: more than a person types in an afternoon, so the
// bot never stops answering for want of packets (the profiles' own default is 1000), and files
// up to about 65 GB. `parley limits` shows and changes them as for any contact.
export const DEMO_GRANT = 1_000_000;

// A whitelisted contact with the demo's grants, once (welcomeEvents journals nothing for a
// contact that is one already with that name).
async function befriend(profile: Profile, peer: number, name: string): Promise<void> {
  const v = profile.views;
  const settings = { ...settingsOf(v.settings), 'default-quota-messages': DEMO_GRANT, 'default-quota-files': DEMO_GRANT };
  const events = welcomeEvents({ contacts: v.contacts, quotas: v.quotas, settings }, peer, name);
  if (events.length > 0) await profile.appendMany(events);
}

// Resolves true once `client` sees `peer` online (the server's presence or a link), false after `ms`.
function seenOnline(client: RunningClient, peer: number, ms: number): Promise<boolean> {
  const online = (): boolean => client.state().presence.get(peer)?.online === true || client.state().routes.has(peer);
  const end = Date.now() + ms;
  return new Promise((resolve) => {
    const check = (): void => {
      if (online()) return resolve(true);
      if (Date.now() > end) return resolve(false);
      setTimeout(check, 50);
    };
    check();
  });
}
