// The first rung of the ladder (issue 10): contacts found on the local network by their UDP
// announcements (src/net/discovery.ts, docs/PROTOCOL.md section 13) are dialled at the address the
// announcement came from, with no server. An announcement proves nothing (anyone can send one):
// it is only a hint of where to dial, and the link is judged as every link is, by TLS and the
// trust rules (trust.ts): a contact with a pinned key must present that key; a contact met by id
// with no pin is dialled only when its id is the one its announced key gives (a self-signed
// identity), and the listener on the other side decides the same way. A contact of an organisation
// (CA) with no pin yet is met through the server first, which pins it; strangers and blocked
// contacts are never dialled. The `lan-discovery` setting (on by default) starts and stops it all.
import { DISCOVERY, startDiscovery, type Discovery, type DiscoveredPeer } from '../net/discovery.js';
import { dialPeer, type PeerLink } from '../net/peer.js';
import type { Identity } from '../net/tls.js';
import { settingsOf } from '../projections/settings.js';
import { selfSignedId } from './identity.js';
import type { Profile } from './profile.js';

export type LanDeps = {
  profile: Profile;
  identity: Identity;
  id: () => number | null;
  // 0: no discovery (no listener, or not asked for).
  listenPort: number;
  // Whether a link to the peer that needs no better route is up (any but the relay).
  hasStraightLink: (peer: number) => boolean;
  adopt: (link: PeerLink, dialer: number) => void;
  log: (line: string) => void;
  signal: AbortSignal;
  // Tests: another UDP port and a faster announcement.
  port?: number;
  everyMs?: number;
};

export type Lan = {
  // Starts or stops discovery after the setting or the id changed. Never throws.
  refresh: () => Promise<void>;
  close: () => Promise<void>;
};

// A contact heard again is dialled at most this often, and the dial gives up after DIAL_MS.
const REDIAL_MS = 10_000;
const DIAL_MS = 5_000;

export function createLan(deps: LanDeps): Lan {
  const { profile, identity, log } = deps;
  let discovery: Discovery | null = null;
  let starting: Promise<void> | null = null;
  let closed = false;
  const lastDial = new Map<number, number>();

  function wanted(): boolean {
    return !closed && deps.listenPort > 0 && deps.id() !== null && settingsOf(profile.views.settings)['lan-discovery'];
  }

  async function refresh(): Promise<void> {
    if (starting) await starting;
    if (wanted() && !discovery) {
      starting = start().finally(() => (starting = null));
      return starting;
    }
    if (!wanted() && discovery) {
      const d = discovery;
      discovery = null;
      await d.close().catch(() => undefined);
    }
  }

  async function start(): Promise<void> {
    try {
      discovery = await startDiscovery({
        port: deps.port ?? DISCOVERY.PORT,
        everyMs: deps.everyMs,
        announce: { id: deps.id() as number, keySha256: identity.keySha256, listenPort: deps.listenPort },
        onPeer: heard,
        onError: () => undefined,
      });
    } catch (err) {
      log(`parley: no LAN discovery: ${(err as Error).message}`);
    }
  }

  // The key to dial a peer with, or null when it is not to be dialled from an announcement.
  function keyFor(p: DiscoveredPeer): string | null {
    const c = profile.views.contacts[p.id];
    if (!c || !c.whitelisted || c.blocked) return null;
    if (c.pin) return c.pin.keySha256;
    return selfSignedId(p.keySha256) === p.id ? p.keySha256 : null;
  }

  function heard(p: DiscoveredPeer): void {
    const id = deps.id();
    if (closed || id === null || deps.hasStraightLink(p.id)) return;
    const key = keyFor(p);
    if (key === null || (lastDial.get(p.id) ?? 0) + REDIAL_MS > Date.now()) return;
    lastDial.set(p.id, Date.now());
    dialPeer({ host: p.address, port: p.listenPort, identity, id, peer: p.id, peerKey: key, pinned: true, connectMs: DIAL_MS, signal: deps.signal }).then(
      (link) => deps.adopt(link, id),
      (err: Error) => log(`parley: ${p.id} heard on the LAN at ${p.address}, not reached: ${err.message}`),
    );
  }

  return {
    refresh: () => refresh().catch((err: Error) => log(`parley: LAN discovery: ${err.message}`)),
    async close() {
      closed = true;
      if (starting) await starting;
      const d = discovery;
      discovery = null;
      if (d) await d.close().catch(() => undefined);
    },
  };
}
