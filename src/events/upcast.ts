// Upcasters bring an event written by an older Parley up to the current shape of its type.
// UPCASTERS[type][n] turns version n+1 into version n+2 (index 0: v1 -> v2), so an event of
// version k passes through every step from k to EVENT_VERSIONS[type]. A step is a pure function
// of the event, like a projection's apply.

import type { RawEvent as Raw, Step } from './schema.js';
import type { EventType } from './types.js';

export const UPCASTERS: Readonly<Partial<Record<EventType, readonly Step[]>>> = Object.freeze({
  // contact.added v1 had no whitelist flag: a contact was added by a person, which v2 records
  // as a whitelisted contact (it may reach me without asking first).
  'contact.added': [(e: Raw) => ({ ...e, v: 2, whitelisted: true })],
  // message.read v1 marked one message read; v2 reads up to and including it (a watermark).
  // Reading a message in a chat implies having seen the ones before it, so the fields stay.
  'message.read': [(e: Raw) => ({ ...e, v: 2 })],
  // message.edited v1 had no direction and matched a message by (peer, id) alone. Only a
  // person's own messages could be edited before messaging existed: v1 edits are of mine.
  'message.edited': [(e: Raw) => ({ ...e, v: 2, direction: 'out' })],
  // Transfer events v1 (all but transfer.offered) named a transfer by its id alone; v2 adds the
  // peer and the direction. A pure step cannot know them (they are in the offer, elsewhere in
  // the journal), so they stay absent, and the transfers view resolves such an event through the
  // first offer of that id, as version 1 matched it (projections/transfers.ts, the 'u' records).
  'transfer.accepted': [toTransferV2],
  'transfer.declined': [toTransferV2],
  'transfer.chunks-stored': [toTransferV2],
  'transfer.chunks-acked': [toTransferV2],
  'transfer.completed': [toTransferV2],
  'transfer.failed': [toTransferV2],
  'transfer.cancelled': [toTransferV2],
});

function toTransferV2(e: Raw): Raw {
  return { ...e, v: 2 };
}
