// What every command shares: where the profile lives, how ids are read, how JSON lines are printed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { badInput, EXIT, parleyError } from '../errors.js';
import { LIMITS } from '../net/constants.js';
import { forwardToClient, hasRunningClient } from '../node/control.js';
import { journalDir, openProfile, type Profile } from '../node/profile.js';
import { clientProfile, resolvePath, stderr, stdout } from './io.js';

const { MAX_ID } = LIMITS;

// The profile: --home DIR, else PARLEY_HOME, else a per-user default.
// => C:\Users\ann\AppData\Roaming\parley on Windows, /home/ann/.parley elsewhere
export function defaultHome(): string {
  if (process.platform === 'win32' && process.env.APPDATA) return path.join(process.env.APPDATA, 'parley');
  return path.join(os.homedir(), '.parley');
}

export function homeOf(cmd: Command): string {
  const opts = cmd.optsWithGlobals() as { home?: string };
  const home = opts.home || process.env.PARLEY_HOME || defaultHome();
  return resolvePath(home);
}

// Adds the options every profile command takes. Declared on each leaf, because commander lets a
// parent with an action of its own swallow an option that both declare (DESIGN.md, traps).
export function profileOptions(cmd: Command): Command {
  return cmd.option('--home <dir>', 'profile directory (default: PARLEY_HOME or the per-user default)');
}

// An id is a whole number from 1 to 2^40-1: five bytes, as in the original packet header.
export function parseId(text: string, what = 'id'): number {
  const trimmed = String(text).trim();
  if (!/^[0-9]+$/.test(trimmed)) throw badInput('BAD_ID', `${what} must be a whole number from 1 to ${MAX_ID}, got "${text}"`);
  const n = Number(trimmed);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_ID) {
    throw badInput('BAD_ID', `${what} must be a whole number from 1 to ${MAX_ID}, got "${text}"`);
  }
  return n;
}

export function parseCount(text: string, what: string): number {
  const trimmed = String(text).trim();
  const n = Number(trimmed);
  if (!/^[0-9]+$/.test(trimmed) || !Number.isSafeInteger(n)) {
    throw badInput('BAD_NUMBER', `${what} must be a whole number of 0 or more, got "${text}"`);
  }
  return n;
}

export function printJson(value: unknown): void {
  stdout().write(JSON.stringify(value) + '\n');
}

export function printLine(text: string): void {
  stdout().write(text + '\n');
}

// A warning or a note, on standard error (the caller's, for a command the client runs).
export function printError(text: string): void {
  stderr().write(text + '\n');
}

// Writes to standard output and waits while the pipe is full, so a long output (a history of a
// million messages) streams in flat memory instead of piling up in Node's buffer.
export function writeOut(text: string): Promise<void> {
  if (text.length === 0) return Promise.resolve();
  const out = stdout();
  if (out.write(text)) return Promise.resolve();
  // A forwarded command's output closes when its caller goes away: no drain comes then.
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done).off('close', done);
      resolve();
    };
    out.once('drain', done).once('close', done);
  });
}

// Progress of a view rebuilt at open (a profile an older Parley wrote), on a terminal only and
// only once it has taken a second: the command still answers when it is done.
export function rebuildProgress(): (view: string, seq: number, lastSeq: number) => void {
  const started = Date.now();
  let shown = false;
  return (view, seq, lastSeq) => {
    const err = stderr();
    if (!err.isTTY || Date.now() - started < 1000) return;
    shown = true;
    const percent = lastSeq > 0 ? Math.floor((seq / lastSeq) * 100) : 100;
    err.write(`\rparley: rebuilding the ${view} view from the journal: ${percent}%${seq >= lastSeq && shown ? '\n' : ''}`);
  };
}

// Opens the profile of the command, runs `work` and closes it whatever happens. Events that
// could not be read are named on stderr; the command goes on with the rest.
//
// A command that only reads never creates a profile: pointed at a folder that holds none (a new
// user, or a mistyped --home), it runs on an empty profile made in the temp folder and removed
// after, so it prints what an empty profile holds and leaves nothing behind.
//
// While a client runs on the profile (`parley up`), the command goes to it over its local socket
// and runs there, on the client's open profile, with the same output (src/node/control.ts).
// `argv`: the command line to send to a running client, when it is not this process's own (a
// text read from standard input goes inline).
export async function withProfile<T>(cmd: Command, work: (profile: Profile) => Promise<T>, options: { readOnly?: boolean; argv?: string[] } = {}): Promise<T> {
  const running = clientProfile();
  if (running) return work(running);
  const home = homeOf(cmd);
  if (hasRunningClient(home)) {
    const forwarded = await forwardToClient(home, options.argv);
    if (forwarded) throw forwarded;
  }
  if (fs.existsSync(home) && !fs.statSync(home).isDirectory()) {
    throw badInput('HOME_NOT_A_FOLDER', `the profile ${home} is a file, not a folder: choose another --home`);
  }
  const empty = options.readOnly && !fs.existsSync(journalDir(home));
  const dir = empty ? fs.mkdtempSync(path.join(os.tmpdir(), 'parley-empty-')) : home;
  try {
    const profile = await openProfile(dir, {
      onSkipped: (s) => printError(`parley: warning: skipped event ${s.seq}: ${s.message}`),
      onProgress: rebuildProgress(),
    });
    try {
      return await work(profile);
    } finally {
      await profile.close();
    }
  } finally {
    if (empty) fs.rmSync(dir, { recursive: true, force: true });
  }
}

// A peer is known when it is a contact or has left any trace: messages, limits, a link.
export function isKnownPeer(profile: Profile, peer: number): boolean {
  const v = profile.views;
  return v.contacts[peer] !== undefined || profile.chat(peer) !== undefined || v.quotas[peer] !== undefined || v.links[peer] !== undefined;
}

// How a peer is shown: its contact name, else its id.
export function peerName(profile: Profile, peer: number): string {
  return profile.views.contacts[peer]?.name ?? String(peer);
}

// Exit 4 for a peer this profile has never heard of: most often a mistyped id.
export function requireKnownPeer(profile: Profile, peer: number): void {
  if (!isKnownPeer(profile, peer)) throw unknownPeer(peer);
}

// Exit 4, before anything is journaled, for a peer that is not a contact: what I send goes to
// contacts only.
export function requireContact(profile: Profile, peer: number): void {
  if (profile.views.contacts[peer] === undefined) throw unknownPeer(peer);
}

function unknownPeer(peer: number): Error {
  return parleyError('UNKNOWN_PEER', `${peer} is not one of your contacts: add it first with parley contacts add ${peer} --name NAME`, EXIT.PEER);
}
