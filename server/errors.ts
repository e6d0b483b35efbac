// Errors of the rendezvous server and its commands. Every one has a fixed UPPER_SNAKE code (tests
// check it) and a one-line message that tells the operator what to do; the CLI prints the message
// and ends with the error's exit code (src/errors.ts): 2 bad input, 3 the data directory is held
// by another process or the running server does not answer.
import { EXIT, badInput, causeText, parleyError, type ParleyError } from '../src/errors.js';

export function badListen(text: string): ParleyError {
  return badInput('SERVER_BAD_LISTEN', `--listen must be HOST:PORT (e.g. 0.0.0.0:7300 or [::]:7300), got "${text}"`);
}

export function listenFailed(host: string, port: number, cause: unknown): ParleyError {
  return badInput('SERVER_LISTEN_FAILED', `cannot listen on ${host}:${port} (${causeText(cause, { code: true })}): choose another address or port`, cause);
}

export function notAServerCertificate(file: string, role: string): ParleyError {
  return badInput(
    'SERVER_WRONG_ROLE',
    `${file} is a ${role} certificate; the server needs one signed with --role server (parley cert sign --role server --host ...)`,
  );
}

export function dataInUse(dir: string, cause?: unknown): ParleyError {
  return parleyError('SERVER_DATA_IN_USE', `the server data directory ${dir} is in use by another running server`, EXIT.BUSY, cause);
}

export function badKeySha256(text: string): ParleyError {
  return badInput('SERVER_BAD_KEY_SHA256', `--key-sha256 must be 64 hex characters (parley cert show --json prints key_sha256), got "${text}"`);
}

export function adminUnreachable(dir: string, cause?: unknown): ParleyError {
  return parleyError(
    'SERVER_ADMIN_UNREACHABLE',
    `a server holds ${dir} but its admin socket does not answer (${causeText(cause, { code: true })}); stop it and run the command again`,
    EXIT.BUSY,
    cause,
  );
}

export function adminFailed(code: string, message: string): ParleyError {
  return parleyError(code || 'SERVER_ADMIN_FAILED', `the running server refused: ${message}`, EXIT.BUSY);
}

export function serverClosed(): ParleyError {
  return parleyError('SERVER_CLOSED', 'the server is closed', EXIT.BUG);
}

export function badOption(name: string, expected: string, value: unknown): ParleyError {
  return parleyError('SERVER_BAD_OPTION', `server option ${name} must be ${expected}, got ${String(value)}`, EXIT.BUG);
}
