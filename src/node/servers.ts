// Which server process the client dials (issue 13: the server is several processes acting as
// one). The profile's `server` setting holds the list as the user gave it, HOST:PORT entries
// separated by commas (one entry: a profile of before). A round tries every entry in order, a
// host name expanded to each of its addresses in turn; the next round starts after the process
// that was last signed in to, so that a client dropped by one process goes on to the next.
//
//   parseServerList('a.example:7400, [::1]:7401')
//   // => [{ host: 'a.example', port: 7400 }, { host: '::1', port: 7401 }]
//   await serverCandidates(list, lookup)
//   // => { candidates: [{ address: '10.0.0.5', family: 4, port: 7400, text: '10.0.0.5:7400' }, ...], failures: [] }
import type { LookupAddress } from 'node:dns';
import { formatHostPort, parseHostPort, type HostPort } from '../net/address.js';
import { LIMITS } from '../net/constants.js';
import { badInput } from '../errors.js';

// One address to dial: an IP address (a host name already looked up) and the entry's port.
// text: `address:port` ([IPv6]:port), the name of this process in logs and status.
export type Candidate = { address: string; family: 4 | 6; port: number; text: string };

// dns.promises.lookup with { all: true }; a test passes its own.
export type LookupAll = (host: string) => Promise<LookupAddress[]>;

// The list as the user types it, checked whole: one bad entry refuses it (exit 2).
export function parseServerList(text: string): HostPort[] {
  const entries = text.split(',').map((e) => e.trim());
  if (entries.length > LIMITS.MAX_SERVERS) {
    throw badInput('BAD_SERVER', `at most ${LIMITS.MAX_SERVERS} servers may be listed, got ${entries.length}`);
  }
  return entries.map((entry, i) => {
    if (entry.length === 0) throw badInput('BAD_SERVER', `the server list "${text}" has an empty entry (number ${i + 1}): give HOST:PORT[,HOST:PORT...]`);
    const parsed = parseHostPort(entry);
    if (!parsed) throw badInput('BAD_SERVER', `the server is HOST:PORT (or [IPv6]:PORT), port 1 to 65535, got "${entry}"`);
    return parsed;
  });
}

// The list as journaled: the entries joined by commas, spaces dropped. => 'a.example:7400,[::1]:7401'
export function serverListText(list: readonly HostPort[]): string {
  return list.map(formatHostPort).join(',');
}

// The entries of a journaled list, as text, unchecked (status shows what the profile holds).
// => ['a.example:7400', '[::1]:7401']
export function listedServers(text: unknown): string[] {
  return typeof text === 'string' ? text.split(',').map((e) => e.trim()).filter((e) => e.length > 0) : [];
}

// Every address of one round, in order: each entry, a host name as its addresses in the order
// the resolver gives them. An entry whose name does not resolve is left out of this round (and
// named in `failures`), not the whole round: the other processes may be up. Never throws.
export async function serverCandidates(list: readonly HostPort[], lookup: LookupAll): Promise<{ candidates: Candidate[]; failures: string[] }> {
  const candidates: Candidate[] = [];
  const failures: string[] = [];
  for (const entry of list) {
    let found: LookupAddress[];
    try {
      found = await lookup(entry.host);
    } catch (err) {
      failures.push(`cannot resolve ${formatHostPort(entry)}: ${(err as Error).message}`);
      continue;
    }
    for (const a of found) {
      if (a.family !== 4 && a.family !== 6) continue;
      const text = formatHostPort({ host: a.address, port: entry.port });
      // One process named twice (an entry and a name that resolves to it) is dialled once a round.
      if (candidates.some((c) => c.text === text)) continue;
      candidates.push({ address: a.address, family: a.family, port: entry.port, text });
    }
  }
  return { candidates, failures };
}

// The order of a round: from the candidate after `last` (the process the client was last signed
// in to, or last tried), round to it, which comes last. With no `last`, or one no longer in the
// list, the list's own order.
// => roundOrder([A, B, C], 'B') is [C, A, B]
export function roundOrder<T extends { text: string }>(candidates: readonly T[], last: string | null): T[] {
  const i = last === null ? -1 : candidates.findIndex((c) => c.text === last);
  return i < 0 ? [...candidates] : [...candidates.slice(i + 1), ...candidates.slice(0, i + 1)];
}

// Where a relay of an introduction is dialled (PROTOCOL.md section 8): the process the
// introduction names, or else the one the client is signed in to. Null when neither is known.
// => relayTarget('10.0.0.7:7400', ...) is { host: '10.0.0.7', port: 7400 }
export function relayTarget(named: string | undefined, signedIn: Candidate | null): HostPort | null {
  if (named !== undefined) return parseHostPort(named);
  return signedIn ? { host: signedIn.address, port: signedIn.port } : null;
}
