// Trust without a CA (docs/PROTOCOL.md section 14), as plain decisions over the views: whom a
// peer link is accepted from, what is journaled when it is (a pin, an invite used, a contact
// welcomed) or refused (a warning). No I/O, no clock: the caller gives `now` and appends the
// events, so that these rules are tested from tables (test/node/trust.test.ts).
//
// In one paragraph: a contact's pinned key wins over everything: a link with another key is
// closed and journaled as contact.key-refused, never accepted. A contact with no pin yet is
// pinned at its first link (trust on first use) when its certificate is vouched for: by this
// side's CA and the server's introduction (organisation mode), or, for a self-signed profile, by
// its id being the one its key gives. A self-signed peer that no pin names gets in only with the
// one-time token of an invite this side issued: its key is pinned then. So a client in
// organisation mode meets a self-signed peer only through an invite or a pin by hand.
import type { NewEvent } from '../events/types.js';
import { WIRE_CODE } from '../net/constants.js';
import type { Contact } from '../projections/contacts.js';
import { selfSignedId as selfSignedIdOf } from './identity.js';
import type { IssuedInvite } from '../projections/invites.js';
import type { QuotasState } from '../projections/quotas.js';
import { inboundGrants, quotaOf } from '../projections/quotas.js';
import type { Settings } from '../projections/settings.js';

// What the listener knows of a peer when its hello comes: the id it claims, the key of its
// certificate, and whether this side's CA vouches for that certificate (chain, role, dates).
// selfIssued: the certificate is its own issuer (a self-signed profile's).
export type Knock = { id: number; keySha256: string; certified: boolean; selfIssued?: boolean; address?: string };

export type TrustFacts = {
  contact: Contact | undefined;
  // The key the server introduced this id with, still fresh (organisation mode): asked for a
  // certificate of this side's CA whose contact has no pin or one from first use (needsIntroduction).
  introducedKey: string | undefined;
  // This client has a session with its server now. Without one, a CA-certified contact pinned at
  // first use is admitted on its pinned key alone: the server's earlier introduction stands while
  // the server cannot be asked (a closed LAN, the server down), so colleagues who met once go on
  // talking. The cost: a key revoked since is not known to be revoked until the server is back.
  serverOnline: boolean;
  // The invite whose token the hello carried, when this side issued one of that hash.
  invite: IssuedInvite | undefined;
  // This profile is self-signed (no CA of its own).
  selfSigned: boolean;
  now: number;
  // How a new contact is welcomed (its first grants): welcomeEvents with the views bound.
  welcome: (peer: number, name: string) => NewEvent[];
};

export type Verdict = { ok: true; events: NewEvent[] } | { ok: false; code: string; reason: string; events: NewEvent[] };

// Whether the listener must wait for the server's introduction of this id before deciding.
export function needsIntroduction(knock: Pick<Knock, 'certified'>, contact: Contact | undefined): boolean {
  return knock.certified && contact?.whitelisted === true && (!contact.pin || contact.pin.by === 'first-use');
}

// decide: the listener's answer to a hello.
export function decideAdmit(knock: Knock, facts: TrustFacts): Verdict {
  const { contact } = facts;
  const { id, keySha256 } = knock;
  if (contact?.blocked) return refuse(WIRE_CODE.PEER_REFUSED, `${id} is blocked here`);
  if (contact?.pin) {
    if (contact.pin.keySha256 !== keySha256) return keyRefused(contact, keySha256, knock.address);
    // The CA path stays as it was: a key the CA vouches for and first use pinned still needs the
    // server's fresh introduction, which a revoked key never gets, whenever the server can be
    // asked (serverOnline). A pin from an invite or by hand is a person's word, and needs no server.
    if (contact.whitelisted && knock.certified && contact.pin.by === 'first-use' && facts.serverOnline && facts.introducedKey !== keySha256) {
      return refuse(WIRE_CODE.PEER_UNKNOWN, `no introduction names ${id} with this key`);
    }
    if (contact.whitelisted) return { ok: true, events: [] };
  }
  const invite = facts.invite;
  if (!contact?.pin && invite && invite.usedBy === null && invite.until >= facts.now) {
    const derived = selfSignedIdOf(keySha256) === id;
    // A self-signed key's id is the first 40 bits of its fingerprint: no other is taken from it.
    if (!knock.certified && knock.selfIssued && !derived) return refuse(WIRE_CODE.PEER_MISMATCH, `a self-signed key's id is the first 40 bits of its fingerprint (${selfSignedIdOf(keySha256)}), not ${id}`);
    // Another operator's client names an id its own server gave, which nobody here can check: taken
    // for someone new, never to pin a contact this side already has under that id.
    if (!knock.certified && !knock.selfIssued && !derived && contact) return refuse(WIRE_CODE.PEER_MISMATCH, `${id} is a contact here already; an invite cannot give its id to another key`);
    const welcomed = !contact ? facts.welcome(id, invite.name ?? String(id)) : contact.whitelisted ? [] : [{ type: 'contact.whitelisted' as const, peer: id, whitelisted: true }];
    return {
      ok: true,
      events: [...welcomed, { type: 'contact.pinned', peer: id, keySha256, by: 'invite' }, { type: 'invite.used', tokenSha256: invite.tokenSha256, peer: id }],
    };
  }
  if (!contact?.whitelisted) return refuse(WIRE_CODE.PEER_UNKNOWN, `${id} is not a contact here, and brought no invite of this side's`);
  if (contact.pin) return refuse(WIRE_CODE.PEER_UNKNOWN, `${id} is not a contact here`);
  // A contact met by id, no key pinned yet: its first link pins it (decideFirstUse, on adopt).
  if (knock.certified) {
    if (facts.introducedKey === keySha256) return { ok: true, events: [] };
    return refuse(WIRE_CODE.PEER_UNKNOWN, `no introduction names ${id} with this key`);
  }
  if (facts.selfSigned && selfSignedIdOf(keySha256) === id) return { ok: true, events: [] };
  return refuse(WIRE_CODE.CERT_UNKNOWN_CA, `${id} presents a certificate no CA of this side vouches for, and no key is pinned for it: connect with its invite (parley connect) or pin its key (parley contacts pin)`);
}

// decide: a link is up with `peer` presenting `keySha256`: a contact with no pin is pinned to it
// (trust on first use, as SSH does).
export function decideFirstUse(contact: Contact | undefined, peer: number, keySha256: string): NewEvent[] {
  if (!contact || contact.pin) return [];
  return [{ type: 'contact.pinned', peer, keySha256, by: 'first-use' }];
}

// decide: this side dialled `peer`, or was introduced to it, and it presents (or the server
// names) `keySha256` against the contact's pin. Null when they agree or nothing is pinned; else
// the warning to journal (once per key: the same refusal again adds nothing).
export function decideKeySeen(contact: Contact | undefined, peer: number, keySha256: string, address?: string): { ok: boolean; events: NewEvent[] } {
  if (!contact?.pin || contact.pin.keySha256 === keySha256) return { ok: true, events: [] };
  const v = keyRefused(contact, keySha256, address);
  return { ok: false, events: v.events };
}

// The events that make `peer` a whitelisted contact named `name`, with the first grants from the
// settings' default-quota-* when it has none yet (`contacts add`, `connect`, an invite used).
export function welcomeEvents(views: { contacts: Record<number, Contact>; quotas: QuotasState; settings: Settings }, peer: number, name: string): NewEvent[] {
  const known = views.contacts[peer];
  if (known) {
    const changes: NewEvent[] = [];
    if (known.name !== name) changes.push({ type: 'contact.renamed', peer, name });
    if (!known.whitelisted) changes.push({ type: 'contact.whitelisted', peer, whitelisted: true });
    return changes;
  }
  const q = quotaOf(views.quotas, peer).inbound;
  const d = views.settings;
  return [
    { type: 'contact.added', peer, name, whitelisted: true },
    ...inboundGrants(peer, {
      messages: q.messages.granted === 0 ? d['default-quota-messages'] : 0,
      files: q.files.granted === 0 ? d['default-quota-files'] : 0,
    }),
  ];
}

function keyRefused(contact: Contact, keySha256: string, address: string | undefined): Verdict {
  const pinned = contact.pin?.keySha256 ?? '';
  const seen = contact.keyWarning?.keySha256 === keySha256;
  return {
    ok: false,
    code: WIRE_CODE.CERT_KEY_MISMATCH,
    reason: `${contact.id} is pinned to another key here`,
    events: seen ? [] : [{ type: 'contact.key-refused', peer: contact.id, keySha256, pinned, ...(address !== undefined ? { address } : {}) }],
  };
}

function refuse(code: string, reason: string): Verdict {
  return { ok: false, code, reason, events: [] };
}

// decide: a contact that dialled this side said where it listens (its hello's listenPort, at the
// address its link came from). Kept for a contact pinned by an invite or by hand, whose links need
// no server: the inviter, who never learnt where the other listens, can dial it back after a
// restart of either side. The address seen goes first, the ones known before after it (16 at
// most); nothing is journaled when it is already first with that port. Contacts pinned at first
// use are met through the server or the LAN, which say where they are.
export const MAX_LOCATED_ADDRESSES = 16;
export function decideLocated(contact: Contact | undefined, peer: number, at: { address: string; port: number }): NewEvent[] {
  if (!contact?.pin || contact.pin.by === 'first-use' || !contact.whitelisted || contact.blocked) return [];
  const known = contact.location;
  if (known && known.port === at.port && known.addresses[0] === at.address) return [];
  const others = (known?.addresses ?? []).filter((a) => a !== at.address);
  return [{ type: 'contact.located', peer, addresses: [at.address, ...others].slice(0, MAX_LOCATED_ADDRESSES), port: at.port }];
}
