// Shared by the wire tests.
import { LIMITS } from '../../src/net/constants.js';
import type { ControlMessage } from '../../src/net/control.js';
import type { NetError } from '../../src/net/errors.js';

// The error a function throws; fails the test when it does not throw.
export function catchErr(fn: () => unknown): NetError {
  try {
    fn();
  } catch (err) {
    return err as NetError;
  }
  throw new Error('expected a throw');
}

export const SAMPLE_KEY = 'ab'.repeat(32);
export const SAMPLE_NONCE = '0f'.repeat(16);
export const SAMPLE_TIME = 1_760_000_000_000; // a time in ms, beyond 32 bits
const T = SAMPLE_TIME;
const KEY = SAMPLE_KEY;
const NONCE = SAMPLE_NONCE;
const MAX_ID = LIMITS.MAX_ID;

// One valid message of every type, most with values at their bounds (the codec's tests), in both
// directions (the server's fuzz test: a server message sent by a client is refused too).
export const SAMPLES: ControlMessage[] = [
  { type: 'login', version: 1, lan: ['192.168.0.23', 'fe80::1%eth0'], listenPort: 40123, agent: 'parley/0.1.0' },
  { type: 'login', version: 255, lan: [], listenPort: 0 },
  { type: 'login-ok', id: MAX_ID, serverTime: T, host: '203.0.113.7', port: 51000, heartbeatMs: 10_000 },
  { type: 'login-refused', code: 'ALREADY_SIGNED_IN', reason: 'already signed in from 203.0.113.7' },
  { type: 'heartbeat' },
  { type: 'heartbeat-ack' },
  { type: 'time-request' },
  { type: 'time', serverTime: T },
  { type: 'presence-watch', ids: [1, 2 ** 32, MAX_ID] },
  { type: 'presence-watch', ids: [] },
  { type: 'presence', id: 42, online: false, at: T },
  { type: 'block-list', ids: [7, MAX_ID] },
  { type: 'introduce-request', target: 2 ** 33 },
  {
    type: 'introduce',
    peer: 77,
    peerKey: KEY,
    host: '2001:db8::1',
    port: 1,
    lan: ['10.0.0.2'],
    listenPort: 65535,
    role: 'tls-server',
    punchAt: T + 1000,
    nonce: NONCE,
  },
  // The relay at another process of the server (issue 13).
  { type: 'introduce', peer: 78, peerKey: KEY, host: '203.0.113.9', port: 2, lan: [], listenPort: 0, role: 'tls-client', punchAt: T, nonce: NONCE, relay: 'relay-2.chat.example:7400' },
  { type: 'introduce-refused', target: 5, code: 'PEER_OFFLINE', reason: '' },
  { type: 'relay-request', peer: 5, nonce: NONCE },
  { type: 'relay-ready', peer: 5, nonce: NONCE },
  { type: 'relay-refused', peer: 5, code: 'RELAY_LIMIT', reason: 'too many relays for this client' },
  { type: 'revoked', id: 9, key: KEY, at: 0 },
  { type: 'bye', code: 'QUIT', reason: 'до свидания' },
  { type: 'error', code: 'BAD_CONTROL', reason: 'x'.repeat(LIMITS.MAX_REASON_LENGTH) },
  { type: 'version-refused', versions: [1, 2] },
  { type: 'hello', version: 1, id: MAX_ID, peer: 1 },
  { type: 'allow-list', ids: [7, MAX_ID] },
  { type: 'contact-request', from: MAX_ID, at: T },
  { type: 'login', version: 1, lan: [], listenPort: 0, allow: [3, 4] },
];
