// The client's relay connections (PROTOCOL.md section 8), opened when the messenger asks for one,
// and those still waiting for their pair cut when the client stops.
//
//   const relays = createRelays({ identity, signedIn: () => session.signedIn() });
//   const stream = await relays.open(7, nonce, '10.0.0.6:7400');
//   relays.cutAll();     // when the client stops
import type { Duplex } from 'node:stream';
import { openSession } from '../net/session.js';
import type { Identity } from '../net/tls.js';
import { relayTarget, type Candidate } from './servers.js';

export type RelayOptions = {
  identity: Identity;
  // The process the client is (or was last) signed in to: where a relay goes when the
  // introduction names none.
  signedIn: () => Candidate | null;
};

export type Relays = {
  open: (peer: number, nonce: string, named?: string) => Promise<Duplex>;
  // Cuts every relay still waiting for its pair.
  cutAll: () => void;
};

// How long a relay end waits for the other side (the server's own bound is 30 s).
const RELAY_WAIT_MS = 35_000;

export function createRelays(options: RelayOptions): Relays {
  const { identity, signedIn } = options;
  const relaying = new Set<Duplex>();

  // A second connection to the server, for a relay (PROTOCOL.md section 8): asked for, spliced,
  // then handed over as the stream of the peers' own TLS.
  // `named`: the process the introduction names (issue 13), checked as the client's own server
  // is (the CA, the server role) by openSession.
  async function openRelay(peer: number, nonce: string, named?: string): Promise<Duplex> {
    const target = relayTarget(named, signedIn());
    if (!target) throw new Error('no server to relay through');
    const r = await openSession({ host: target.host, port: target.port, identity, stopAfter: 'relay-ready' });
    // One still waiting for its pair when the client stops is cut then.
    relaying.add(r.socket);
    const ready = r.next('relay-ready', { ms: RELAY_WAIT_MS });
    r.send({ type: 'relay-request', peer, nonce });
    try {
      await ready;
    } catch (err) {
      r.socket.destroy();
      throw err;
    } finally {
      relaying.delete(r.socket);
    }
    const rest = r.detach();
    if (rest.length > 0) r.socket.unshift(rest);
    return r.socket;
  }

  return {
    open: openRelay,
    cutAll() {
      for (const r of relaying) r.destroy();
    },
  };
}
