// The bulk queue (src/net/scheduler.ts) without a socket: a counter stands for the bytes the
// socket has not yet written, and the test says when a write completes.
import { describe, expect, it } from 'vitest';
import { BULK_WINDOW, createScheduler, mayWriteBulk } from '../../src/net/scheduler.js';

// A socket that writes nothing until told: `complete()` finishes the oldest write.
function fakeSocket(options: { gone?: () => boolean; syncComplete?: boolean } = {}) {
  let unwritten = 0;
  const written: string[] = [];
  const pending: Array<{ size: number; done: () => void }> = [];
  return {
    unwritten: () => unwritten,
    written,
    urgent(size: number) {
      unwritten += size;
      pending.push({ size, done: () => undefined });
    },
    write(parts: readonly Buffer[], done: () => void): boolean {
      if (options.gone?.()) return false;
      const size = parts.reduce((n, p) => n + p.length, 0);
      written.push(parts.map((p) => p.toString()).join(''));
      if (options.syncComplete) {
        // A socket that writes at once still calls back later; the length drops at once.
        queueMicrotask(done);
        return true;
      }
      unwritten += size;
      pending.push({ size, done });
      return true;
    },
    complete() {
      const w = pending.shift();
      if (!w) throw new Error('nothing to complete');
      unwritten -= w.size;
      w.done();
    },
  };
}

const part = (text: string, size = text.length): Buffer => Buffer.from(text.padEnd(size, '.'));

describe('scheduler', () => {
  it.each([
    { unwritten: 0, window: 10, may: true },
    { unwritten: 9, window: 10, may: true },
    { unwritten: 10, window: 10, may: false },
    { unwritten: 11, window: 10, may: false },
    { unwritten: BULK_WINDOW - 1, window: BULK_WINDOW, may: true },
  ])('scheduler - mayWriteBulk($unwritten, $window) is $may', ({ unwritten, window, may }) => {
    expect(mayWriteBulk(unwritten, window)).toBe(may);
  });

  it('scheduler - `written` is called once the frame has left the socket, after it was handed; never for a frame the end kept back', async () => {
    const socket = fakeSocket();
    const s = createScheduler({ window: 10, unwritten: socket.unwritten, write: socket.write });
    const calls: string[] = [];
    // One at a time: each fills the window.
    const a = s.push([part('a', 10)], () => calls.push('a'));
    const b = s.push([part('b', 10)], () => calls.push('b'));
    const c = s.push([part('c', 10)], () => calls.push('c'));
    await expect(a).resolves.toBe(true);
    // Handed to the socket is not written by it: the buffer is still the socket's.
    expect(calls).toEqual([]);
    socket.complete();
    expect(calls).toEqual(['a']);
    s.end();
    await expect(c).resolves.toBe(false);
    socket.complete();
    await expect(b).resolves.toBe(true);
    expect(calls).toEqual(['a', 'b']);
  });

  it('scheduler - writes in order while the socket holds less than the window, then one more per completion', async () => {
    const socket = fakeSocket();
    const s = createScheduler({ window: 10, unwritten: socket.unwritten, write: socket.write });
    const handed = ['a', 'b', 'c', 'd'].map((t) => s.push([part(t, 6)]));
    // a (0 < 10) and b (6 < 10) go; c waits: the socket holds 12.
    expect(socket.written).toEqual(['a.....', 'b.....']);
    expect(s.queued()).toBe(12);
    await expect(Promise.race([handed[2], Promise.resolve('waiting')])).resolves.toBe('waiting');
    socket.complete(); // 6 left: c goes, 12 again
    expect(socket.written).toEqual(['a.....', 'b.....', 'c.....']);
    socket.complete();
    socket.complete();
    expect(socket.written.length).toBe(4);
    await expect(Promise.all(handed)).resolves.toEqual([true, true, true, true]);
    expect(s.queued()).toBe(0);
  });

  it('scheduler - urgent bytes in the socket hold bulk back until they are written', () => {
    const socket = fakeSocket();
    const s = createScheduler({ window: 10, unwritten: socket.unwritten, write: socket.write });
    socket.urgent(20);
    void s.push([part('x', 4)]);
    expect(socket.written).toEqual([]);
    socket.complete(); // the urgent frame is out; its completion pumps (as peer.ts does)
    s.pump();
    expect(socket.written).toEqual(['x...']);
  });

  it('scheduler - a frame is kept whole: header and payload go in one write', () => {
    const socket = fakeSocket();
    const s = createScheduler({ window: 10, unwritten: socket.unwritten, write: socket.write });
    void s.push([part('H', 3), part('payload', 30)]);
    expect(socket.written).toEqual(['H..payload' + '.'.repeat(23)]);
    expect(socket.unwritten()).toBe(33);
  });

  it('scheduler - end settles every waiting frame false, and a push after it false at once', async () => {
    const socket = fakeSocket();
    const s = createScheduler({ window: 1, unwritten: socket.unwritten, write: socket.write });
    const handed = [1, 2, 3].map((i) => s.push([part(String(i))]));
    s.end();
    await expect(Promise.all(handed)).resolves.toEqual([true, false, false]);
    await expect(s.push([part('4')])).resolves.toBe(false);
    expect(s.queued()).toBe(0);
    // A completion after the end writes nothing more.
    socket.complete();
    expect(socket.written).toEqual(['1']);
  });

  it('scheduler - a socket gone at write time settles that frame and the rest false', async () => {
    let gone = false;
    const socket = fakeSocket({ gone: () => gone });
    const s = createScheduler({ window: 1, unwritten: socket.unwritten, write: socket.write });
    const handed = [1, 2, 3].map((i) => s.push([part(String(i))]));
    gone = true;
    socket.complete();
    await expect(Promise.all(handed)).resolves.toEqual([true, false, false]);
  });

  it('scheduler - writes that complete at once (a socket with room) write each frame once, in order', async () => {
    const socket = fakeSocket({ syncComplete: true });
    const s = createScheduler({ window: 10, unwritten: socket.unwritten, write: socket.write });
    const texts = Array.from({ length: 50 }, (_, i) => `f${i}`);
    const handed = await Promise.all(texts.map((t) => s.push([part(t)])));
    expect(handed.every(Boolean)).toBe(true);
    expect(socket.written).toEqual(texts);
  });

  it('scheduler - refuses a window that is not a whole number of bytes', () => {
    const socket = fakeSocket();
    for (const window of [0, -1, 1.5, Number.NaN]) {
      expect(() => createScheduler({ window, unwritten: socket.unwritten, write: socket.write })).toThrow(RangeError);
    }
  });
});
