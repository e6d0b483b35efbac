// The journal's sealer over a profile's keyring (keyring.ts): message texts are sealed with their
// chat's key as their events are stored, and opened as they are read back, a batch at a time
// each way (one cipher call per chat key, not per text).
import type { ParleyError } from '../errors.js';
import { corruptEvent } from '../events/errors.js';
import type { Sealer } from '../events/journal.js';
import type { Stored } from '../events/types.js';
import { openKeyring, type Keyring } from './keyring.js';

// The types whose text is sealed: the stored value holds `sealed` (bytes) in place of `text`.
const SEALED_TYPES: ReadonlySet<string> = new Set(['message.sent', 'message.received', 'message.edited']);

// For a tool that opens a profile's journal alone (it holds the profile's lock the same way):
// texts opened with the profile's keys.
export function journalSealer(home: string): Sealer {
  let keyring: Keyring | null = null;
  return makeSealer(() => (keyring ??= openKeyring(home)));
}

export function makeSealer(keyring: () => Keyring): Sealer {
  return {
    seal(events) {
      // The texts to seal, with where each goes; one sealMany for all of them.
      const at: number[] = [];
      const items: Array<{ peer: number; text: string }> = [];
      for (let i = 0; i < events.length; i++) {
        if (!SEALED_TYPES.has(events[i].type)) continue;
        const e = events[i] as Stored & { peer: number; text: string };
        if (typeof e.text !== 'string') continue;
        at.push(i);
        items.push({ peer: e.peer, text: e.text });
      }
      const out = new Array<{ from: string; to: string; value: unknown } | null>(events.length).fill(null);
      if (items.length === 0) return out;
      const sealed = keyring().sealMany(items);
      for (let j = 0; j < at.length; j++) out[at[j]] = { from: 'text', to: 'sealed', value: sealed[j] };
      return out;
    },
    open(events) {
      // The sealed texts, with where each is; one openMany for all of them.
      const at: number[] = [];
      const items: Uint8Array[] = [];
      for (let i = 0; i < events.length; i++) {
        const e = events[i] as unknown as { type: string; sealed?: Uint8Array };
        if (e.sealed === undefined || !SEALED_TYPES.has(e.type)) continue;
        at.push(i);
        items.push(e.sealed);
      }
      const errors = new Array<ParleyError | null>(events.length).fill(null);
      if (items.length === 0) return errors;
      const texts = keyring().openMany(items);
      for (let j = 0; j < at.length; j++) {
        const e = events[at[j]] as unknown as { text?: string; sealed?: Uint8Array; seq: number };
        const text = texts[j];
        if (text === null) {
          errors[at[j]] = corruptEvent(e.seq, new Error('its text cannot be opened: the key that sealed it is gone (a cleared chat)'));
          continue;
        }
        e.text = text;
        delete e.sealed;
      }
      return errors;
    },
  };
}
