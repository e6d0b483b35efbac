// Errors of the journal. Each has a fixed code that tests check and the CLI maps to an exit code.
import { causeText, EXIT, parleyError, profileInUse, type ParleyError } from '../errors.js';

export { profileInUse };

export function corruptEvent(seq: number, cause?: unknown): ParleyError {
  const why = cause === undefined ? '' : `: ${causeText(cause)}`;
  return parleyError(
    'JOURNAL_CORRUPT',
    `event ${seq} in the journal cannot be read${why}; the events around it are intact (journal inspect --since ${seq} shows them)`,
    EXIT.BUG,
    cause,
  );
}

export function journalClosed(): ParleyError {
  return parleyError('JOURNAL_CLOSED', 'the journal is closed', EXIT.BUG);
}

export function writeFailed(cause: unknown): ParleyError {
  const why = causeText(cause);
  return parleyError(
    'JOURNAL_WRITE_FAILED',
    `could not write to the journal (${why}); nothing of this batch was stored: free disk space and try again`,
    EXIT.BUG,
    cause,
  );
}

export function openFailed(dir: string, cause: unknown): ParleyError {
  const why = causeText(cause);
  return parleyError('JOURNAL_OPEN_FAILED', `could not open the journal in ${dir}: ${why}`, EXIT.BUG, cause);
}

export function badEvent(message: string): ParleyError {
  return parleyError('EVENT_INVALID', message, EXIT.BUG);
}

export function keyringUnreadable(home: string, cause: unknown): ParleyError {
  const why = causeText(cause);
  return parleyError('KEYRING_UNREADABLE', `the keys of profile ${home} (keys.json) cannot be read: ${why}; without them its message texts cannot be opened`, EXIT.BUG, cause);
}
