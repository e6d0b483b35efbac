// What a journal holds: the shape every event shares, and a schema naming the types one kind of
// journal accepts (a client profile's, src/events/types.ts; the server's, server/events.ts), the
// current version of each, which need no sync, and the steps that bring an older version up.
// The journal and its codec read and check events through the schema they were opened with, so
// a profile refuses a server's event and the other way round.

export type EventOf<T extends string> = { type: T; at: number; v?: number; seq?: number };
export type EventBase = EventOf<string>;

// An event as read back from the journal: the sequence number and version are always there.
export type StoredOf<E extends EventBase> = E & { seq: number; v: number };

// What a caller hands to append: the journal fills in `v` (and `at` when missing).
export type NewOf<E extends EventBase> = E extends EventBase ? Omit<E, 'v' | 'seq' | 'at'> & { at?: number } : never;

export type RawEvent = Record<string, unknown> & { type: string; v: number };
// One upcasting step: version n+1 of a type to n+2 (a pure function of the event).
export type Step = (event: RawEvent) => RawEvent;

export type EventSchema = {
  // Named in messages: 'a Parley profile', 'a Parley server's data directory'.
  holder: string;
  versions: Readonly<Record<string, number>>;
  // Types a crash may lose (the batch holding only these is not synced).
  notDurable: ReadonlySet<string>;
  // UPCASTERS[type][n] turns version n+1 into n+2.
  upcasters: Readonly<Record<string, readonly Step[]>>;
};

export function isKnownIn(schema: EventSchema, type: unknown): boolean {
  return typeof type === 'string' && Object.hasOwn(schema.versions, type);
}

export function isDurableIn(schema: EventSchema, type: string): boolean {
  return !schema.notDurable.has(type);
}

// Brings an event written by an older Parley up to the current shape of its type. Events
// without `v` were written before versions existed: they are version 1.
export function upcastIn(schema: EventSchema, event: RawEvent): RawEvent {
  const target = schema.versions[event.type];
  let current = event;
  if (typeof current.v !== 'number') current.v = 1;
  if (current.v === target) return current;
  // Written by a newer Parley: reading it as this version's shape could misread it.
  if (current.v > target) throw new Error(`it is ${event.type} version ${current.v}, written by a newer Parley (this one reads up to version ${target}): upgrade Parley`);
  const steps = schema.upcasters[event.type] ?? [];
  while (current.v < target) {
    const step = steps[current.v - 1];
    if (!step) throw new Error(`no upcaster for ${event.type} from version ${current.v}`);
    current = step(current);
  }
  return current;
}
