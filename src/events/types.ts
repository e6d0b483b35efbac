// Every fact Parley knows is one of these events. `type` is a dotted past-tense name; `at` is
// milliseconds since the epoch on the writer's clock; `v` is the schema version of that type
// (see upcast.ts); the journal adds `seq` on append. The server's journal has its own events
// (server/events.ts). Peer ids are numbers from 1 to 2^40-1,
// message and transfer ids are strings.
//
// Changing the meaning or the fields of a type: bump its version in EVENT_VERSIONS and add an
// upcaster from the old shape in upcast.ts, so that a newer Parley reads an older journal.

export type Direction = 'in' | 'out';
export type QuotaDirection = 'inbound' | 'outbound';
export type QuotaKind = 'messages' | 'files';
export type Route = 'lan' | 'direct' | 'punched' | 'relay';

import { isDurableIn, isKnownIn, type EventOf as Base, type EventSchema, type NewOf, type StoredOf } from './schema.js';
import { UPCASTERS } from './upcast.js';

export type IdentityCreated = Base<'identity.created'> & { id: number; keySha256?: string };
export type ServerRegistered = Base<'server.registered'> & { server: string; id: number };
export type ContactAdded = Base<'contact.added'> & { peer: number; name: string; whitelisted: boolean };
export type ContactRenamed = Base<'contact.renamed'> & { peer: number; name: string };
export type ContactMoved = Base<'contact.moved'> & { peer: number; folder: string };
export type ContactWhitelisted = Base<'contact.whitelisted'> & { peer: number; whitelisted: boolean };
export type ContactBlocked = Base<'contact.blocked'> & { peer: number; blocked: boolean };
// The person took the contact off the list. Its chat, its quota events and its block stay (a
// blocked one is kept away still): added again, it finds its history where it was.
export type ContactRemoved = Base<'contact.removed'> & { peer: number };
// Someone who is not a whitelisted contact asked the server to introduce us (a contact-request);
// the person accepts (contact.added or contact.whitelisted) or refuses.
export type ContactRequested = Base<'contact.requested'> & { peer: number };
export type ContactRefused = Base<'contact.refused'> & { peer: number };
// The key a contact must present on every link (the SHA-256 of its public key, lowercase hex,
// as keySha256OfCert gives): pinned outright by an invite (`parley connect`, or the inviter when
// its invite's token is used), by hand (`parley contacts pin`), or at the first link of a contact
// met by id (trust on first use, as SSH does). docs/PROTOCOL.md section 14.
export type PinSource = 'invite' | 'first-use' | 'hand';
export type ContactPinned = Base<'contact.pinned'> & { peer: number; keySha256: string; by: PinSource };
// Where a contact's client listens, from its invite: dialled with no server. token: the invite's
// one-time token (32 hex characters), presented in the hello of links this side dials so that
// the inviter, who has never seen this side's key, pins it (PROTOCOL.md section 12).
export type ContactLocated = Base<'contact.located'> & { peer: number; addresses: string[]; port: number; token?: string };
// A link for this contact presented another key than the pinned one: it was closed, never
// accepted. Kept as a warning that `contacts` and `status` show until a key is pinned by hand.
export type ContactKeyRefused = Base<'contact.key-refused'> & { peer: number; keySha256: string; pinned: string; address?: string };
// `parley invite`: a one-time token for whoever connects with the invite, good until `until`.
// Only the token's SHA-256 is kept: the journal does not hold what lets a stranger in.
export type InviteIssued = Base<'invite.issued'> & { tokenSha256: string; until: number; name?: string };
// The token was presented by `peer` at its first link, which was then pinned to its key.
export type InviteUsed = Base<'invite.used'> & { tokenSha256: string; peer: number };
export type LinkOpened = Base<'link.opened'> & { peer: number; route: Route; address?: string };
export type LinkClosed = Base<'link.closed'> & { peer: number; reason: string };
export type MessageSent = Base<'message.sent'> & { id: string; peer: number; text: string; replyTo?: string; packets: number };
export type MessageReceived = Base<'message.received'> & { id: string; peer: number; text: string; sentAt: number; replyTo?: string };
// Events about a message name it by id, and by `msgSeq` too, the seq of its message.sent or
// message.received, when the writer knows it (the running client does: it looks the message up
// before it journals a receipt, to drop one about a message it never had). The messages view
// then writes without reading; without msgSeq it finds the message by id.
type AboutMessage = { id: string; peer: number; msgSeq?: number };
// The peer says it has my message; receivedAt is its clock.
export type MessageDelivered = Base<'message.delivered'> & AboutMessage & { receivedAt: number };
// Reading is a watermark. by 'me': I read the peer's messages up to and including this one (an
// incoming id). by 'peer': the peer read mine up to and including this one (an outgoing id).
export type MessageRead = Base<'message.read'> & AboutMessage & { by: 'me' | 'peer' };
// My message was written to a link (status sent); non-durable: losing it costs a resend.
export type MessageTransmitted = Base<'message.transmitted'> & AboutMessage & { route?: Route };
// My message could not be delivered and will not be retried.
export type MessageFailed = Base<'message.failed'> & AboutMessage & { reason: string };
// An edit of my message (out) or of one of the peer's (in).
export type MessageEdited = Base<'message.edited'> & AboutMessage & { direction: Direction; text: string };
// Forgetting a chat: the events of its messages before this one were removed from the store in
// the same batch that wrote this event; `removed` says how many, so a reader can tell the gaps.
export type ChatCleared = Base<'chat.cleared'> & { peer: number; removed: number };
// Whether the chat with `peer` is kept (`parley history keep --peer ID on|off`). Not kept: the
// running client clears it (as chat.cleared above) each time it closes. Kept is the default.
export type ChatKeepChanged = Base<'chat.keep-changed'> & { peer: number; keep: boolean };
// A transfer is known by (peer, direction, id): both sides choose their own ids, so my "t1" to a
// peer and the peer's "t1" to me are two transfers. Every transfer event names all three
// (version 2; transfer.offered always did). Events of version 1 other than transfer.offered
// named the id alone: read back, they lack peer and direction (upcast.ts cannot know them), and
// the transfers view finds them through the first offer of that id (projections/transfers.ts).
type TransferKey = { id: string; peer: number; direction: Direction };
// States (projections/transfers.ts): offered -> active (accepted) <-> paused (the link went
// away, resumed when it is back) -> completed | failed | cancelled; offered -> declined.
export type TransferOffered = Base<'transfer.offered'> &
  TransferKey & {
    name: string;
    size: number;
    chunkSize: number;
    // The file on this computer, for a transfer I send (so it resumes after a restart); never
    // sent to the peer, which learns the name alone.
    path?: string;
  };
export type TransferAccepted = Base<'transfer.accepted'> & TransferKey & { path?: string };
export type TransferDeclined = Base<'transfer.declined'> & TransferKey & { reason?: string };
// The link that carried an active transfer went away; it goes on when a link is back. Not
// durable, like the links themselves (see NOT_DURABLE).
export type TransferPaused = Base<'transfer.paused'> & TransferKey & { reason: string; wireBytes?: number };
export type TransferResumed = Base<'transfer.resumed'> & TransferKey;
// wireBytes, on the events below that have it: the bytes of this transfer's chunks put on the
// wire (sender) or taken off it (receiver) since the previous event of this transfer that
// counted them, resends and chunks that failed their check included. The view sums them, so a
// restart keeps the count. The pause and the end carry what was sent after the last ack.
//
// The receiver wrote, flushed and verified these chunks (so the direction is always 'in').
export type TransferChunksStored = Base<'transfer.chunks-stored'> & TransferKey & { direction: 'in'; chunks: number[]; wireBytes?: number };
// The sender learnt that the receiver stored these chunks (so the direction is always 'out').
export type TransferChunksAcked = Base<'transfer.chunks-acked'> & TransferKey & { direction: 'out'; chunks: number[]; wireBytes?: number };
// root: the hex SHA-256 over the chunks' SHA-256s in order (docs/PROTOCOL.md, "Files"), the same on
// both sides; path: where the received file was put, its final name (made unique) rather than the
// one the acceptance named.
export type TransferCompleted = Base<'transfer.completed'> & TransferKey & { sha256?: string; root?: string; path?: string; wireBytes?: number };
export type TransferFailed = Base<'transfer.failed'> & TransferKey & { reason: string; wireBytes?: number };
export type TransferCancelled = Base<'transfer.cancelled'> & TransferKey & { by: 'me' | 'peer'; wireBytes?: number };
export type QuotaGranted = Base<'quota.granted'> & { peer: number; direction: QuotaDirection; kind: QuotaKind; n: number };
export type QuotaSpent = Base<'quota.spent'> & { peer: number; direction: QuotaDirection; kind: QuotaKind; n: number; ref?: string };
export type QuotaRefused = Base<'quota.refused'> & { peer: number; direction: QuotaDirection; kind: QuotaKind; n: number; ref?: string };
export type SettingsChanged = Base<'settings.changed'> & { key: string; value: string | number | boolean };

export type ParleyEvent =
  | IdentityCreated
  | ServerRegistered
  | ContactAdded
  | ContactRenamed
  | ContactMoved
  | ContactWhitelisted
  | ContactBlocked
  | ContactRemoved
  | ContactRequested
  | ContactRefused
  | ContactPinned
  | ContactLocated
  | ContactKeyRefused
  | InviteIssued
  | InviteUsed
  | LinkOpened
  | LinkClosed
  | MessageSent
  | MessageReceived
  | MessageDelivered
  | MessageRead
  | MessageTransmitted
  | MessageFailed
  | MessageEdited
  | ChatCleared
  | ChatKeepChanged
  | TransferOffered
  | TransferAccepted
  | TransferDeclined
  | TransferPaused
  | TransferResumed
  | TransferChunksStored
  | TransferChunksAcked
  | TransferCompleted
  | TransferFailed
  | TransferCancelled
  | QuotaGranted
  | QuotaSpent
  | QuotaRefused
  | SettingsChanged;

export type EventType = ParleyEvent['type'];

// An event of a profile as read back from its journal: the sequence number is always there.
export type Stored<E extends ParleyEvent = ParleyEvent> = StoredOf<E>;

// What a caller hands to a profile's append: the journal fills in `v` (and `at` when missing).
export type NewEvent = NewOf<ParleyEvent>;

// The current schema version of each type. A journal written by an older Parley holds lower
// versions; upcast.ts brings them up to these when they are read.
export const EVENT_VERSIONS: Readonly<Record<EventType, number>> = Object.freeze({
  'identity.created': 1,
  'server.registered': 1,
  'contact.added': 2,
  'contact.renamed': 1,
  'contact.moved': 1,
  'contact.whitelisted': 1,
  'contact.blocked': 1,
  'contact.removed': 1,
  'contact.requested': 1,
  'contact.refused': 1,
  'contact.pinned': 1,
  'contact.located': 1,
  'contact.key-refused': 1,
  'invite.issued': 1,
  'invite.used': 1,
  'link.opened': 1,
  'link.closed': 1,
  'message.sent': 1,
  'message.received': 1,
  'message.delivered': 1,
  'message.read': 2,
  'message.transmitted': 1,
  'message.failed': 1,
  'message.edited': 2,
  'chat.cleared': 1,
  'chat.keep-changed': 1,
  'transfer.offered': 1,
  'transfer.accepted': 2,
  'transfer.declined': 2,
  'transfer.paused': 1,
  'transfer.resumed': 1,
  'transfer.chunks-stored': 2,
  'transfer.chunks-acked': 2,
  'transfer.completed': 2,
  'transfer.failed': 2,
  'transfer.cancelled': 2,
  'quota.granted': 1,
  'quota.spent': 1,
  'quota.refused': 1,
  'settings.changed': 1,
});

// Events a person would miss if a crash lost them: the batch that holds one is synced to disk
// before append resolves, so nothing acknowledges them to anyone earlier. Not so: chunk progress
// (a lost chunks-stored only makes the sender resend the chunk, DESIGN.md, Events; the wire
// bytes it counted are lost with it, a few ms of them), links coming and going (the next
// start knows they are gone anyway), and for the same reason a transfer paused
// or resumed with its link: after a restart no transfer has a link, whatever the view says. A
// crash loses only a tail of the journal (LevelDB's log is written in order, and a synced batch
// carries every one before it), so a lost resume never leaves the chunks after it behind.
const NOT_DURABLE: ReadonlySet<string> = new Set([
  'message.transmitted',
  'transfer.chunks-stored',
  'transfer.chunks-acked',
  'transfer.paused',
  'transfer.resumed',
  'link.opened',
  'link.closed',
]);

// A client profile's journal: these types, these versions, these steps from older ones.
export const CLIENT_EVENTS: EventSchema = Object.freeze({
  holder: 'a Parley profile',
  versions: EVENT_VERSIONS,
  notDurable: NOT_DURABLE,
  upcasters: UPCASTERS as EventSchema['upcasters'],
});

export function isDurable(type: string): boolean {
  return isDurableIn(CLIENT_EVENTS, type);
}

export function isKnownType(type: unknown): type is EventType {
  return isKnownIn(CLIENT_EVENTS, type);
}
