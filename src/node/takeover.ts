// Which link to a contact is kept (docs/PROTOCOL.md section 9): pure decisions, no I/O. The
// messenger (messenger.ts) asks them of every link that finishes its handshake.
import { WIRE_CODE } from '../net/constants.js';
import type { Route } from '../events/types.js';

// A link on `route`, dialled by `dialer`, takes over the contact's current one: a link straight
// to the peer (to its listener on the LAN or beyond, or punched through the NATs) takes over the
// relay; between two straight links (both sides dialled at once, or a listener and a punch) the
// one dialled by the lower id, which both sides pick alike, so that they keep the same link
// instead of each closing the other's. LAN and direct are not ranked apart: each side names a
// link by the address it sees, and through a NAT's hairpin the two sides can name one link
// differently, which would have each keep another link.
export function takesOver(route: Route, dialer: number, current: { route: Route; dialer: number }): boolean {
  const relayed = route === 'relay';
  const currentRelayed = current.route === 'relay';
  if (relayed !== currentRelayed) return currentRelayed;
  return dialer < current.dialer;
}

// Whether a link that just finished its handshake is kept. A dial, punch or relay started while
// the peer was a contact can finish after it was blocked or removed (the handshake checked it
// then): such a link is refused here, or it would stay up on both sides, the block's close having
// gone to the link before it.
export function adoption(route: Route, dialer: number, current: { route: Route; dialer: number } | undefined, now: { closing: boolean; contact: boolean }): { keep: true } | { keep: false; code: string; reason: string } {
  if (now.closing) return { keep: false, code: WIRE_CODE.DUPLICATE, reason: 'the client is closing' };
  if (!now.contact) return { keep: false, code: WIRE_CODE.PEER_REFUSED, reason: 'no longer a contact' };
  if (current && !takesOver(route, dialer, current)) return { keep: false, code: WIRE_CODE.DUPLICATE, reason: 'a link to this peer is up already' };
  return { keep: true };
}
