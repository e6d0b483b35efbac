// A server process's address as text, HOST:PORT, the one rule for what the user types
// (`parley init --server`) and what the server sends (introduce's `relay`, docs/PROTOCOL.md
// section 5). HOST is an IPv4 address, an IPv6 address in brackets, or a host name.
//
//   parseHostPort('[::1]:7400')          // => { host: '::1', port: 7400 }
//   parseHostPort('chat.example:7400')   // => { host: 'chat.example', port: 7400 }
//   parseHostPort('::1:7400')            // => null: an IPv6 address needs its brackets
//   formatHostPort({ host: '::1', port: 7400 })  // => '[::1]:7400'
import { isIP } from 'node:net';
import { LIMITS } from './constants.js';

export type HostPort = { host: string; port: number };

// Letters, digits, '-' and '_' in dot-separated labels of 1 to 63 (RFC 1123; the underscore is
// in use on private networks). No zone, no spaces, nothing a terminal would interpret.
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const BRACKETED = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/;
const PLAIN = /^([^:[\]]+):(\d{1,5})$/;

// Null when the text is not HOST:PORT with a port of 1 to 65535.
export function parseHostPort(text: string): HostPort | null {
  if (typeof text !== 'string' || text.length > LIMITS.MAX_SERVER_ADDRESS_LENGTH) return null;
  const v6 = BRACKETED.exec(text);
  const m = v6 ?? PLAIN.exec(text);
  if (!m) return null;
  const host = m[1];
  const port = Number(m[2]);
  if (!(port >= 1 && port <= 65535)) return null;
  if (v6 ? isIP(host) !== 6 : isIP(host) !== 4 && !HOST_NAME.test(host)) return null;
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
