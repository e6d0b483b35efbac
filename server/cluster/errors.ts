// Errors of the cluster (nats.ts and its modules), in the server's shape (server/errors.ts): a
// fixed UPPER_SNAKE code and a message that tells the operator what to do.
import { EXIT, badInput, causeText, parleyError, type ParleyError } from '../../src/errors.js';

// NATS (or its JetStream) did not take a write or a read within the retries' bound (store.ts).
export function clusterUnavailable(what: string, cause: unknown): ParleyError {
  return parleyError(
    'CLUSTER_UNAVAILABLE',
    `the cluster's NATS did not answer ${what} (${causeText(cause)}): check that a majority of the NATS nodes run and reach one another`,
    EXIT.BUSY,
    cause,
  );
}

export function clusterUnreachable(servers: string[], cause: unknown): ParleyError {
  return parleyError('CLUSTER_UNREACHABLE', `cannot connect to NATS at ${servers.join(', ')} (${causeText(cause)}): start NATS or fix --cluster`, EXIT.BUSY, cause);
}

export function badClusterOption(name: string, expected: string, value: unknown): ParleyError {
  return badInput('CLUSTER_BAD_OPTION', `cluster option ${name} must be ${expected}, got ${String(value)}`);
}

// The server asked with what cannot be a key's SHA-256 or an id: a bug of the caller's.
export function badClusterArgument(name: string, expected: string, value: unknown): ParleyError {
  return parleyError('CLUSTER_BAD_ARGUMENT', `cluster: ${name} must be ${expected}, got ${String(value)}`, EXIT.BUG);
}
