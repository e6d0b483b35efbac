// Login (PROTOCOL.md section 6, steps 4-5) as a decision: which id a key signs in with, or why it
// may not. No I/O: the wiring journals a fresh id's registration before it answers login-ok, so
// an id once given out is never given to another key.
import { PROTOCOL_VERSION, SUPPORTED_VERSIONS, WIRE_CODE } from '../src/net/constants.js';
import { assignId, type ControlMessage, type ControlOf } from '../src/net/control.js';
import type { ClientRegistered } from './events.js';
import type { Registry } from './registry.js';

export type LoginState = {
  registry: Registry;
  // Keys whose first registration is being journaled -> the id they will get.
  registering: ReadonlyMap<string, number>;
  // Where the session holding (or claiming) an id comes from, if one does.
  holderOf: (id: number) => { host: string } | undefined;
};

export type LoginDecision =
  // The last message before the connection closes: login-refused, or version-refused.
  | { ok: false; message: ControlMessage }
  // fresh: the key had no id; `registered` is the event to journal (durably) before login-ok.
  | { ok: true; id: number; fresh: false }
  | { ok: true; id: number; fresh: true; registered: ClientRegistered };

export function loginRefused(code: string, reason: string): ControlMessage & { code: string } {
  return { type: 'login-refused', code, reason };
}

export function revokedRefusal(): ControlMessage & { code: string } {
  return loginRefused(WIRE_CODE.CERT_REVOKED, 'this certificate\'s key was revoked by the server\'s operator');
}

// The refusal of a login whose id has a session, here or on another process of a cluster.
export function alreadySignedIn(host: string): ControlMessage {
  return loginRefused(WIRE_CODE.ALREADY_SIGNED_IN, `already signed in from ${host}`);
}

function refused(code: string, reason: string): LoginDecision {
  return { ok: false, message: loginRefused(code, reason) };
}

export function decideLogin(state: LoginState, key: string, msg: ControlOf<'login'>, now: number): LoginDecision {
  if (msg.version !== PROTOCOL_VERSION) return { ok: false, message: { type: 'version-refused', versions: [...SUPPORTED_VERSIONS] } };
  const { registry, registering } = state;
  if (registry.revoked.has(key)) return { ok: false, message: revokedRefusal() };

  // The key's id: the journaled one, the one being journaled, or a new one (section 4).
  const known = registry.byKey.get(key) ?? registering.get(key);
  let id = known;
  if (id === undefined) {
    const reserved = new Set(registering.values());
    const assigned = assignId(Buffer.from(key, 'hex'), (c) => registry.byId.has(c) || reserved.has(c));
    if (assigned === null) return refused(WIRE_CODE.ID_EXHAUSTED, 'no free id for this key; tell the server\'s operator');
    id = assigned;
  }
  const holder = state.holderOf(id);
  if (holder) return { ok: false, message: alreadySignedIn(holder.host) };
  if (known !== undefined) return { ok: true, id, fresh: false };
  return { ok: true, id, fresh: true, registered: { type: 'client.registered', id, keySha256: key, at: now } };
}
