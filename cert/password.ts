// Where a password comes from, in this order: --password-file FILE (its first line, as OpenSSL's
// `-passin file:` reads it), the environment (PARLEY_CA_PASSWORD for the CA key,
// PARLEY_KEY_PASSWORD for the others), or a prompt on the terminal that does not echo. Never a
// command-line argument: those show in `ps` and in shell history.
import { MIN_PASSWORD_LENGTH } from './constants.js';
import { readText } from './files.js';
import {
  passwordCancelled,
  passwordFileEmpty,
  passwordMismatch,
  passwordNeeded,
  passwordTooShort,
} from './errors.js';

// The terminal, replaceable in tests by a stream that pretends to be one.
export type PromptIo = {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  output: NodeJS.WritableStream;
};

export type PasswordRequest = {
  // Names the password in prompts and errors: "CA" or "key".
  what: string;
  file?: string;
  env: string;
  // A new password (a key being created): asked twice on the terminal, and MIN_PASSWORD_LENGTH long.
  confirm?: boolean;
  io?: PromptIo;
  environment?: NodeJS.ProcessEnv;
};

export async function obtainPassword(request: PasswordRequest): Promise<string> {
  const password = await fromSources(request);
  if (request.confirm && [...password].length < MIN_PASSWORD_LENGTH) throw passwordTooShort();
  return password;
}

async function fromSources(request: PasswordRequest): Promise<string> {
  if (request.file !== undefined) return readPasswordFile(request.file);
  const fromEnv = (request.environment ?? process.env)[request.env];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const io = request.io ?? { input: process.stdin, output: process.stderr };
  if (!io.input.isTTY || typeof io.input.setRawMode !== 'function') throw passwordNeeded(request.what, request.env);
  const first = await promptHidden(io, `${capitalised(request.what)} password: `);
  if (!request.confirm) return first;
  if ([...first].length < MIN_PASSWORD_LENGTH) throw passwordTooShort();
  const second = await promptHidden(io, `${capitalised(request.what)} password again: `);
  if (first !== second) throw passwordMismatch();
  return first;
}

export function readPasswordFile(file: string): string {
  const text = readText(file, 'password file');
  // The first line without its end (\n or \r\n: a file saved by Notepad works too).
  const line = text.split(/\r?\n/)[0];
  if (line === '') throw passwordFileEmpty(file);
  return line;
}

// Reads one line in raw mode, echoing nothing. Raw mode works the same on Windows consoles and
// POSIX terminals, unlike turning echo off with stty. Ctrl-C and Ctrl-D cancel.
export function promptHidden(io: PromptIo, question: string): Promise<string> {
  const { input, output } = io;
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (err?: Error): void => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(passwordCancelled());
        if (ch === '\u007f' || ch === '\b') {
          typed = [...typed].slice(0, -1).join('');
          continue;
        }
        // An arrow key or another escape sequence: not part of a password; drop the rest.
        if (ch === '\u001b') break;
        if (ch < ' ') continue;
        typed += ch;
      }
    };
    output.write(question);
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
  });
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
