// The trust rules without a CA (src/node/trust.ts, docs/PROTOCOL.md section 14), from tables:
// given a contact (pinned or not), an introduction, an invite, what the listener answers a hello
// and what it journals.
import { describe, expect, it } from 'vitest';
import { WIRE_CODE } from '../../src/net/constants.js';
import { selfSignedId } from '../../src/node/identity.js';
import { decideAdmit, decideFirstUse, decideKeySeen, decideLocated, needsIntroduction, type Knock, type TrustFacts } from '../../src/node/trust.js';
import type { Contact } from '../../src/projections/contacts.js';
import type { IssuedInvite } from '../../src/projections/invites.js';

const A = '50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c';
const B = 'b'.repeat(64);
const ID_A = selfSignedId(A);
const NOW = 1_700_000_000_000;

const contact = (extra: Partial<Contact> = {}): Contact => ({ id: ID_A, name: 'Ann', folder: 'main', whitelisted: true, blocked: false, addedAt: 1, ...extra });
const pinned = (key: string, extra: Partial<Contact> = {}): Contact => contact({ pin: { keySha256: key, by: 'invite', at: 1 }, ...extra });
const invite = (extra: Partial<IssuedInvite> = {}): IssuedInvite => ({ tokenSha256: 'c'.repeat(64), until: NOW + 1, name: 'Ann', usedBy: null, ...extra });
const knock = (extra: Partial<Knock> = {}): Knock => ({ id: ID_A, keySha256: A, certified: false, selfIssued: true, ...extra });
const facts = (extra: Partial<TrustFacts> = {}): TrustFacts => ({
  contact: undefined,
  introducedKey: undefined,
  serverOnline: true,
  invite: undefined,
  selfSigned: true,
  now: NOW,
  welcome: (peer, name) => [{ type: 'contact.added', peer, name, whitelisted: true }],
  ...extra,
});

describe('trust', () => {
  it.each<[string, Knock, Partial<TrustFacts>, true | string, string[]]>([
    ['a pinned contact with its key', knock(), { contact: pinned(A) }, true, []],
    ['a pinned contact with another key: refused, warned', knock({ keySha256: B }), { contact: pinned(A) }, WIRE_CODE.CERT_KEY_MISMATCH, ['contact.key-refused']],
    ['the same other key again: refused, warned once', knock({ keySha256: B }), { contact: pinned(A, { keyWarning: { keySha256: B, pinned: A, at: 2 } }) }, WIRE_CODE.CERT_KEY_MISMATCH, []],
    ['a pinned contact with another key and a valid invite: still refused', knock({ keySha256: B }), { contact: pinned(A), invite: invite() }, WIRE_CODE.CERT_KEY_MISMATCH, ['contact.key-refused']],
    ['a blocked contact', knock(), { contact: pinned(A, { blocked: true }) }, WIRE_CODE.PEER_REFUSED, []],
    ['a stranger with a valid invite: welcomed, pinned, the invite used', knock(), { invite: invite() }, true, ['contact.added', 'contact.pinned', 'invite.used']],
    ['a stranger with a used invite', knock(), { invite: invite({ usedBy: 5 }) }, WIRE_CODE.PEER_UNKNOWN, []],
    ['a stranger with an expired invite', knock(), { invite: invite({ until: NOW - 1 }) }, WIRE_CODE.PEER_UNKNOWN, []],
    ['a self-signed stranger claiming an id its key does not give, with an invite', knock({ id: 77 }), { invite: invite() }, WIRE_CODE.PEER_MISMATCH, []],
    ['a stranger with no invite', knock(), {}, WIRE_CODE.PEER_UNKNOWN, []],
    ['a self-signed contact met by id, its id its key gives (first use, later pinned)', knock(), { contact: contact() }, true, []],
    ['a self-signed contact met by id, another id than its key gives', knock({ id: 77 }), { contact: contact({ id: 77 }) }, WIRE_CODE.CERT_UNKNOWN_CA, []],
    ['organisation mode: a certified contact the server introduced with this key', knock({ certified: true, id: 9 }), { contact: contact({ id: 9 }), introducedKey: A, selfSigned: false }, true, []],
    ['organisation mode: a certified contact not introduced', knock({ certified: true, id: 9 }), { contact: contact({ id: 9 }), selfSigned: false }, WIRE_CODE.PEER_UNKNOWN, []],
    ['organisation mode: a self-signed contact met by id alone is refused', knock(), { contact: contact(), selfSigned: false }, WIRE_CODE.CERT_UNKNOWN_CA, []],
    ['organisation mode: a self-signed peer with an invite of this side', knock(), { invite: invite(), selfSigned: false }, true, ['contact.added', 'contact.pinned', 'invite.used']],
    ['another operator\'s client with an invite: its server\'s id taken for someone new', knock({ id: 77, selfIssued: false }), { invite: invite() }, true, ['contact.added', 'contact.pinned', 'invite.used']],
    ['another operator\'s client with an invite, claiming the id of a contact with no pin', knock({ id: 77, selfIssued: false }), { contact: contact({ id: 77 }), invite: invite() }, WIRE_CODE.PEER_MISMATCH, []],
    ['organisation mode: a self-signed contact pinned by hand', knock(), { contact: pinned(A), selfSigned: false }, true, []],
    ['organisation mode: a certified contact pinned at first use, introduced again', knock({ certified: true, id: 9 }), { contact: pinned(A, { id: 9, pin: { keySha256: A, by: 'first-use', at: 1 } }), introducedKey: A, selfSigned: false }, true, []],
    ['organisation mode: a certified contact pinned at first use, with no fresh introduction (a revoked key gets none)', knock({ certified: true, id: 9 }), { contact: pinned(A, { id: 9, pin: { keySha256: A, by: 'first-use', at: 1 } }), selfSigned: false }, WIRE_CODE.PEER_UNKNOWN, []],
    ['organisation mode, no server session: a certified contact pinned at first use, on its pinned key (a closed LAN, the server down)', knock({ certified: true, id: 9 }), { contact: pinned(A, { id: 9, pin: { keySha256: A, by: 'first-use', at: 1 } }), selfSigned: false, serverOnline: false }, true, []],
    ['organisation mode, no server session: a certified contact pinned at first use, another key', knock({ certified: true, id: 9, keySha256: B }), { contact: pinned(A, { id: 9, pin: { keySha256: A, by: 'first-use', at: 1 } }), selfSigned: false, serverOnline: false }, WIRE_CODE.CERT_KEY_MISMATCH, ['contact.key-refused']],
    ['organisation mode, no server session: a certified contact never pinned still needs an introduction', knock({ certified: true, id: 9 }), { contact: contact({ id: 9 }), selfSigned: false, serverOnline: false }, WIRE_CODE.PEER_UNKNOWN, []],
    ['organisation mode: a certified contact pinned by an invite needs no server', knock({ certified: true, id: 9 }), { contact: pinned(A, { id: 9 }), selfSigned: false }, true, []],
  ])('trust - %s', (_what, k, f, expected, types) => {
    const v = decideAdmit(k, facts(f));
    expect(v.ok ? true : v.code).toBe(expected);
    expect(v.events.map((e) => e.type)).toEqual(types);
  });

  it('trust - an invite pins the key it was used with, and names the contact as the invite said', () => {
    const v = decideAdmit(knock(), facts({ invite: invite({ name: 'Bob' }) }));
    expect(v.events).toEqual([
      { type: 'contact.added', peer: ID_A, name: 'Bob', whitelisted: true },
      { type: 'contact.pinned', peer: ID_A, keySha256: A, by: 'invite' },
      { type: 'invite.used', tokenSha256: 'c'.repeat(64), peer: ID_A },
    ]);
  });

  it('trust - the listener waits for an introduction only for a certificate of its CA whose contact is not pinned by a person', () => {
    expect(needsIntroduction({ certified: true }, contact())).toBe(true);
    expect(needsIntroduction({ certified: true }, pinned(A, { pin: { keySha256: A, by: 'first-use', at: 1 } }))).toBe(true);
    expect(needsIntroduction({ certified: true }, pinned(A))).toBe(false);
    expect(needsIntroduction({ certified: false }, contact())).toBe(false);
    expect(needsIntroduction({ certified: true }, undefined)).toBe(false);
  });

  it('trust - first use pins a contact with no pin, never one pinned already', () => {
    expect(decideFirstUse(contact(), ID_A, A)).toEqual([{ type: 'contact.pinned', peer: ID_A, keySha256: A, by: 'first-use' }]);
    expect(decideFirstUse(pinned(B), ID_A, A)).toEqual([]);
    expect(decideFirstUse(undefined, ID_A, A)).toEqual([]);
  });

  it('trust - a key seen on dialling or in an introduction: agreed, nothing pinned, or a warning once', () => {
    expect(decideKeySeen(pinned(A), ID_A, A)).toEqual({ ok: true, events: [] });
    expect(decideKeySeen(contact(), ID_A, B)).toEqual({ ok: true, events: [] });
    expect(decideKeySeen(pinned(A), ID_A, B, '127.0.0.1:9')).toEqual({ ok: false, events: [{ type: 'contact.key-refused', peer: ID_A, keySha256: B, pinned: A, address: '127.0.0.1:9' }] });
  });

  it('trust - where a dialler listens is kept for a contact pinned by an invite or by hand, seen address first, and only when it changed', () => {
    const at = { address: '198.51.100.7', port: 4100 };
    expect(decideLocated(undefined, ID_A, at)).toEqual([]);
    expect(decideLocated(contact(), ID_A, at)).toEqual([]);
    expect(decideLocated(pinned(A, { pin: { keySha256: A, by: 'first-use', at: 1 } }), ID_A, at)).toEqual([]);
    expect(decideLocated(pinned(A, { blocked: true }), ID_A, at)).toEqual([]);
    expect(decideLocated(pinned(A), ID_A, at)).toEqual([{ type: 'contact.located', peer: ID_A, addresses: ['198.51.100.7'], port: 4100 }]);
    const located = pinned(A, { location: { addresses: ['10.0.0.2', '198.51.100.7'], port: 4000, token: 'c'.repeat(32) } });
    expect(decideLocated(located, ID_A, at)).toEqual([{ type: 'contact.located', peer: ID_A, addresses: ['198.51.100.7', '10.0.0.2'], port: 4100 }]);
    expect(decideLocated(pinned(A, { location: { addresses: ['198.51.100.7'], port: 4100 } }), ID_A, at)).toEqual([]);
  });
});
