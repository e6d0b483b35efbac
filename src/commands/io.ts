// Where a command writes and which profile it uses. A command run by `parley` writes to this
// process's stdout and stderr and opens the profile itself; the same command forwarded to the
// running client (src/node/control.ts) runs inside the client's process, with its output going
// back over the local socket and the client's open profile. AsyncLocalStorage keeps each
// forwarded run's own streams, however many run at once, without threading them through every
// command.
import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import type { ClientState } from '../node/client.js';
import type { Profile } from '../node/profile.js';

export type CommandIo = {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  // The caller's working directory: relative paths in arguments are the caller's.
  cwd: string;
  // The running client, when the command runs inside it: its open profile and what it knows now.
  client?: { profile: Profile; state: () => ClientState };
};

const current = new AsyncLocalStorage<CommandIo>();

export function runWithIo<T>(io: CommandIo, work: () => Promise<T>): Promise<T> {
  return current.run(io, work);
}

export function stdout(): CommandIo['stdout'] {
  return current.getStore()?.stdout ?? process.stdout;
}

export function stderr(): CommandIo['stderr'] {
  return current.getStore()?.stderr ?? process.stderr;
}

// => '/home/ann/notes.md' from 'notes.md', relative to where the user typed the command.
export function resolvePath(file: string): string {
  return path.resolve(current.getStore()?.cwd ?? process.cwd(), file);
}

export function clientProfile(): Profile | undefined {
  return current.getStore()?.client?.profile;
}

export function clientState(): ClientState | undefined {
  return current.getStore()?.client?.state();
}
