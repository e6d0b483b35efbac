// Errors of every area share one shape: a fixed UPPER_SNAKE `code`, a message that tells a
// person what to do, and the exit code the CLI ends with when the error reaches it.
// Exit codes (issue 2): 0 done; 1 a bug; 2 bad input or usage; 3 profile in use or client not
// running; 4 unknown, blocked or refusing peer; 5 a confirmation was needed and no terminal.

export const EXIT = Object.freeze({
  OK: 0,
  BUG: 1,
  USAGE: 2,
  BUSY: 3,
  PEER: 4,
  CONFIRM: 5,
});

export type ParleyError = Error & { code: string; exitCode: number };

export function parleyError(code: string, message: string, exitCode: number, cause?: unknown): ParleyError {
  const err = new Error(message, cause === undefined ? undefined : { cause }) as ParleyError;
  err.code = code;
  err.exitCode = exitCode;
  return err;
}

// A wrapped error's cause as words for its message, which is one line: an Error's first line,
// anything else as a string. Options: `max` cuts it (a cause that came from a peer may be long);
// `code` gives an error's code alone when it has one, for messages that already name what failed.
// => "ENOENT: no such file or directory, open '/tmp/x'"; with code: 'ENOENT'
export function causeText(cause: unknown, options: { max?: number; code?: boolean } = {}): string {
  const code = (cause as { code?: unknown } | null | undefined)?.code;
  let text: string;
  if (options.code && typeof code === 'string') text = code;
  else if (cause instanceof Error) text = cause.message.split('\n')[0] || (typeof code === 'string' ? code : cause.name);
  else text = cause === undefined ? 'unknown reason' : String(cause);
  return options.max === undefined ? text : text.slice(0, options.max);
}

export function isParleyError(err: unknown): err is ParleyError {
  return err instanceof Error && typeof (err as ParleyError).exitCode === 'number' && typeof (err as ParleyError).code === 'string';
}

export function badInput(code: string, message: string, cause?: unknown): ParleyError {
  return parleyError(code, message, EXIT.USAGE, cause);
}

export function profileInUse(dir: string, cause?: unknown): ParleyError {
  return parleyError('PROFILE_IN_USE', `profile ${dir} is in use by another Parley`, EXIT.BUSY, cause);
}
