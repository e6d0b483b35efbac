import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { listedServers, parseServerList, relayTarget, roundOrder, serverCandidates, serverListText, type Candidate } from '../../src/node/servers.js';

const catchErr = (f: () => unknown): Error & { code?: string; exitCode?: number } => {
  try {
    f();
  } catch (err) {
    return err as Error & { code?: string; exitCode?: number };
  }
  throw new Error('did not throw');
};

// A resolver that knows a few names, in the order given; any other name fails as dns.lookup does.
function fakeLookup(names: Record<string, LookupAddress[]>): (host: string) => Promise<LookupAddress[]> {
  return async (host) => {
    if (/^[\d.]+$/.test(host)) return [{ address: host, family: 4 }];
    if (host.includes(':')) return [{ address: host, family: 6 }];
    const found = names[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
}

const candidate = (text: string): Candidate => ({ address: text.split(':')[0], family: 4, port: Number(text.split(':')[1]), text });

describe('servers', () => {
  it.each([
    ['127.0.0.1:7400', [{ host: '127.0.0.1', port: 7400 }], '127.0.0.1:7400'],
    [' a.example:7400 , [::1]:7401 ', [{ host: 'a.example', port: 7400 }, { host: '::1', port: 7401 }], 'a.example:7400,[::1]:7401'],
    ['localhost:1,localhost:2,10.0.0.1:3', [{ host: 'localhost', port: 1 }, { host: 'localhost', port: 2 }, { host: '10.0.0.1', port: 3 }], 'localhost:1,localhost:2,10.0.0.1:3'],
  ])('servers - reads the list %s', (text, want, journaled) => {
    expect(parseServerList(text)).toEqual(want);
    expect(serverListText(parseServerList(text))).toBe(journaled);
    expect(listedServers(journaled)).toEqual(journaled.split(','));
  });

  it.each([
    ['an empty entry in the middle', 'a:1,,b:2', /empty entry \(number 2\)/],
    ['a trailing comma', 'a:1,', /empty entry \(number 2\)/],
    ['nothing', '', /empty entry \(number 1\)/],
    ['a bad port', 'a:1,b:70000', /HOST:PORT.*"b:70000"/],
    ['no port', 'example.org', /HOST:PORT.*"example.org"/],
    ['too many entries', Array.from({ length: 17 }, (_, i) => `h${i}:1`).join(','), /at most 16/],
  ])('servers - refuses %s: BAD_SERVER, exit 2', (_what, text, message) => {
    const err = catchErr(() => parseServerList(text));
    expect(err.code).toBe('BAD_SERVER');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(message);
  });

  it('servers - a round takes each entry in order, a name as each of its addresses, each process once', async () => {
    const lookup = fakeLookup({
      'cluster.example': [{ address: '10.0.0.5', family: 4 }, { address: '2001:db8::5', family: 6 }, { address: '10.0.0.6', family: 4 }],
    });
    const { candidates, failures } = await serverCandidates(parseServerList('10.0.0.9:7400,cluster.example:7400,10.0.0.6:7400'), lookup);
    expect(candidates).toEqual([
      { address: '10.0.0.9', family: 4, port: 7400, text: '10.0.0.9:7400' },
      { address: '10.0.0.5', family: 4, port: 7400, text: '10.0.0.5:7400' },
      { address: '2001:db8::5', family: 6, port: 7400, text: '[2001:db8::5]:7400' },
      { address: '10.0.0.6', family: 4, port: 7400, text: '10.0.0.6:7400' },
    ]);
    expect(failures).toEqual([]);
  });

  it('servers - a name that does not resolve is left out of the round, the others kept', async () => {
    const { candidates, failures } = await serverCandidates(parseServerList('gone.example:1,10.0.0.1:2'), fakeLookup({}));
    expect(candidates.map((c) => c.text)).toEqual(['10.0.0.1:2']);
    expect(failures).toEqual([expect.stringMatching(/^cannot resolve gone.example:1: getaddrinfo ENOTFOUND/)]);
  });

  it.each([
    [null, ['a:1', 'b:2', 'c:3']],
    ['a:1', ['b:2', 'c:3', 'a:1']],
    ['b:2', ['c:3', 'a:1', 'b:2']],
    ['c:3', ['a:1', 'b:2', 'c:3']],
    ['gone:4', ['a:1', 'b:2', 'c:3']],
  ])('servers - a round after %s goes on to the next process', (last, want) => {
    expect(roundOrder(['a:1', 'b:2', 'c:3'].map(candidate), last).map((c) => c.text)).toEqual(want);
  });

  it.each([
    ['the process the introduction names', '10.0.0.7:7401', candidate('10.0.0.5:7400'), { host: '10.0.0.7', port: 7401 }],
    ['a named IPv6 process', '[2001:db8::7]:7401', candidate('10.0.0.5:7400'), { host: '2001:db8::7', port: 7401 }],
    ['a named host name', 'relay-2.chat.example:7400', null, { host: 'relay-2.chat.example', port: 7400 }],
    ['none named: the process signed in to', undefined, candidate('10.0.0.5:7400'), { host: '10.0.0.5', port: 7400 }],
    ['none named, not signed in', undefined, null, null],
  ])('servers - the relay goes to %s', (_what, named, signedIn, want) => {
    expect(relayTarget(named, signedIn)).toEqual(want);
  });
});
