// Links with no server (docs/PROTOCOL.md sections 12 and 14): contacts whose invite said where
// they listen are dialled there, judged by their pinned key alone, and dialled again with a
// growing wait while no link is up; every hello that reaches the listener is judged by the trust
// rules (trust.ts), whose events (a pin, an invite used, a warning) are journaled before the link
// is welcomed. The messenger (messenger.ts) adopts the links this makes.
import { createHash } from 'node:crypto';
import { TIMING, WIRE_CODE } from '../net/constants.js';
import { raceLinks } from '../net/race.js';
import type { Admission, Knock } from '../net/hello.js';
import { dialPeer, type PeerLink } from '../net/peer.js';
import type { Identity } from '../net/tls.js';
import { settingsOf } from '../projections/settings.js';
import type { Profile } from './profile.js';
import { decideAdmit, decideKeySeen, decideLocated, needsIntroduction, welcomeEvents } from './trust.js';

export type Serverless = {
  // Dials the contact at its invite's addresses now, unless a link is up or a dial runs.
  dial: (peer: number) => void;
  // Dials every contact that has addresses (at start).
  dialAll: () => void;
  // The contact's link went: dialled again after the current wait.
  linkDown: (peer: number) => void;
  // The contact has a link: its wait starts from the shortest again.
  linkUp: (peer: number) => void;
  // serverOnline: whether this client has a server session now (TrustFacts.serverOnline).
  admit: (knock: Knock, introducedKey: () => Promise<string | undefined> | string | undefined, serverOnline: boolean) => Promise<Admission>;
  close: () => void;
};

export type ServerlessDeps = {
  profile: Profile;
  identity: Identity;
  id: () => number | null;
  hasLink: (peer: number) => boolean;
  // Where this client listens for peer links (0: nowhere), said in each hello it dials with.
  listenPort: () => number;
  // A link this side dialled at `host` (one of the invite's addresses): the messenger takes it,
  // named by that address as the listener names it (or closes it when another is up).
  adopt: (link: PeerLink, dialer: number, host: string) => void;
  log: (line: string) => void;
  // Waits between dials of a contact that is not there: the first, doubled up to the last.
  backoffMs?: { first: number; max: number };
};

export function createServerless(deps: ServerlessDeps): Serverless {
  const { profile, identity, log } = deps;
  const backoff = deps.backoffMs ?? { first: 1_000, max: 30_000 };
  const dialing = new Set<number>();
  const waits = new Map<number, number>();
  const timers = new Map<number, NodeJS.Timeout>();
  // Tokens whose use is being journaled: a second hello with the same token meanwhile gets nothing.
  const spending = new Set<string>();
  // Where a dialler admitted here said it listens, until its link is up.
  const listensAt = new Map<number, { address: string; port: number }>();
  // A self-signed profile is its own CA (identity.ts): no CA of its own vouches for anyone.
  const selfSigned = identity.ca === identity.cert;
  let closing = false;

  function dial(peer: number): void {
    const c = profile.views.contacts[peer];
    const id = deps.id();
    if (closing || id === null || dialing.has(peer) || deps.hasLink(peer)) return;
    if (!c?.location || !c.pin || !c.whitelisted || c.blocked) return;
    const pin = c.pin.keySha256;
    const { addresses, port, token } = c.location;
    dialing.add(peer);
    const timer = timers.get(peer);
    if (timer) clearTimeout(timer);
    timers.delete(peer);
    // Every address at once, TLS on the first connection only (race.ts says why), as an
    // introduction's dial.
    void raceLinks(addresses, port, TIMING.LOGIN_TIMEOUT_MS, undefined, (won) =>
      dialPeer({ socket: won.socket, identity, id, peer, peerKey: pin, pinned: true, listenPort: deps.listenPort(), ...(token !== undefined ? { invite: token } : {}) }),
    ).then((r) => {
      dialing.delete(peer);
      if (r.link) {
        if (closing) return void r.link.close(WIRE_CODE.DUPLICATE, 'the client is closing');
        return deps.adopt(r.link, id, r.host);
      }
      for (const { host, err } of r.errors) {
        const e = err as Error & { code?: string; keySha256?: string | null };
        if (e.code === WIRE_CODE.CERT_KEY_MISMATCH && e.keySha256) void refusedKey(peer, e.keySha256, `${host}:${port}`);
      }
      if (closing) return;
      log(`parley: cannot reach ${peer} at ${addresses.join(', ')} port ${port}: ${r.errors[0]?.err.message ?? 'no answer'}`);
      later(peer);
    });
  }

  async function refusedKey(peer: number, keySha256: string, address: string): Promise<void> {
    const seen = decideKeySeen(profile.views.contacts[peer], peer, keySha256, address);
    log(`parley: warning: ${peer} at ${address} presented key ${keySha256}, not the one pinned for it: refused`);
    if (seen.events.length > 0) await profile.appendMany(seen.events).catch((err: Error) => log(`parley: cannot keep the warning about ${peer}: ${err.message}`));
  }

  function later(peer: number): void {
    if (closing || timers.has(peer) || !profile.views.contacts[peer]?.location) return;
    const wait = Math.min(backoff.max, (waits.get(peer) ?? backoff.first / 2) * 2);
    waits.set(peer, wait);
    const timer = setTimeout(() => {
      timers.delete(peer);
      dial(peer);
    }, wait);
    timer.unref();
    timers.set(peer, timer);
  }

  async function admit(knock: Knock, introducedKey: () => Promise<string | undefined> | string | undefined, serverOnline: boolean): Promise<Admission> {
    const contact = profile.views.contacts[knock.id];
    const introduced = serverOnline && needsIntroduction({ certified: knock.check.ok }, contact) ? await introducedKey() : undefined;
    const tokenSha256 = knock.invite !== undefined ? createHash('sha256').update(Buffer.from(knock.invite, 'hex')).digest('hex') : undefined;
    const invite = tokenSha256 !== undefined && !spending.has(tokenSha256) ? profile.views.invites[tokenSha256] : undefined;
    const v = profile.views;
    const verdict = decideAdmit(
      { id: knock.id, keySha256: knock.keySha256, certified: knock.check.ok, selfIssued: knock.selfIssued, address: knock.address },
      {
        contact: v.contacts[knock.id],
        introducedKey: introduced,
        serverOnline,
        invite,
        selfSigned,
        now: Date.now(),
        welcome: (peer, name) => welcomeEvents({ contacts: v.contacts, quotas: v.quotas, settings: settingsOf(v.settings) }, peer, name),
      },
    );
    if (verdict.events.length > 0) {
      if (invite) spending.add(invite.tokenSha256);
      try {
        await profile.appendMany(verdict.events);
      } finally {
        if (invite) spending.delete(invite.tokenSha256);
      }
    }
    if (verdict.ok) {
      if (invite && verdict.events.length > 0) log(`parley: ${knock.id} connected with your invite: pinned to key ${knock.keySha256}`);
      // Where it listens, remembered once its link is up (linkUp): this side can dial it back after
      // either side restarts. Not before: a contact with an address and something to send is
      // dialled, and this link would get a twin.
      if (knock.listenAt) listensAt.set(knock.id, knock.listenAt);
      return { ok: true };
    }
    if (verdict.code === WIRE_CODE.CERT_KEY_MISMATCH) log(`parley: warning: ${knock.id} at ${knock.address} presented key ${knock.keySha256}, not the one pinned for it: refused`);
    return { ok: false, code: verdict.code, reason: verdict.reason };
  }

  return {
    dial,
    dialAll() {
      for (const c of Object.values(profile.views.contacts)) if (c.location) dial(c.id);
    },
    linkDown: later,
    linkUp(peer) {
      const at = listensAt.get(peer);
      listensAt.delete(peer);
      const located = at ? decideLocated(profile.views.contacts[peer], peer, at) : [];
      if (located.length > 0) void profile.appendMany(located).catch((err: Error) => log(`parley: cannot keep where ${peer} listens: ${err.message}`));
      waits.delete(peer);
      const timer = timers.get(peer);
      if (timer) clearTimeout(timer);
      timers.delete(peer);
    },
    admit,
    close() {
      closing = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
