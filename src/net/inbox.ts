// Where the control messages of the client's server session go (docs/PROTOCOL.md section 6), in
// the order they came: each to the first bounded wait that takes it, then to every subscriber.
// What a message does to the session itself (heartbeats, login-ok, an end) is session.ts's.
//
//   const inbox = createInbox({ host, port });
//   const ok = inbox.wait('answer to login', (m) => (m.type === 'login-ok' ? m : undefined), 5_000);
//   inbox.deliver(msg);    // from the frame loop, in order
//   inbox.fail(end);       // the session ended: the waits left reject with SESSION_CLOSED
import type { ControlMessage } from './control.js';
import { sessionClosed, sessionTimeout, type SessionEndInfo } from './errors.js';

export type Inbox = {
  // What `take` makes of the first message it accepts (anything but undefined) from now on.
  // Rejects with SESSION_TIMEOUT after `ms`, SESSION_CLOSED on fail(); `what` names the message
  // in those errors.
  wait: <T>(what: string, take: (m: ControlMessage) => T | undefined, ms: number) => Promise<T>;
  // Every control message from now on; returns the unsubscribe.
  subscribe: (listener: (msg: ControlMessage) => void) => () => void;
  deliver: (msg: ControlMessage) => void;
  fail: (end: SessionEndInfo) => void;
};

// The server's address, for the errors' messages.
export function createInbox(server: { host: string; port: number }): Inbox {
  const { host, port } = server;
  const subscribers = new Set<(msg: ControlMessage) => void>();
  type Waiter = { take: (m: ControlMessage) => boolean; fail: (end: SessionEndInfo) => void };
  const waiters: Waiter[] = [];

  function wait<T>(what: string, take: (m: ControlMessage) => T | undefined, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(sessionTimeout(what, ms, host, port));
      }, ms);
      const waiter: Waiter = {
        take: (m) => {
          const v = take(m);
          if (v === undefined) return false;
          clearTimeout(t);
          resolve(v);
          return true;
        },
        fail: (e) => {
          clearTimeout(t);
          reject(sessionClosed(what, e, host, port));
        },
      };
      waiters.push(waiter);
    });
  }

  return {
    wait,
    subscribe(listener) {
      subscribers.add(listener);
      return () => void subscribers.delete(listener);
    },
    deliver(msg) {
      for (let i = 0; i < waiters.length; i++) {
        if (waiters[i].take(msg)) {
          waiters.splice(i, 1);
          break;
        }
      }
      for (const s of [...subscribers]) s(msg);
    },
    fail(end) {
      for (const w of waiters.splice(0)) w.fail(end);
    },
  };
}
