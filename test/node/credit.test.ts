// The received window of a transfer (src/node/credit.ts): when the sender may hand one more
// chunk, when the receiver reports (and holds a report while its disk is behind), how a report
// is taken; and, over any chunk sizes and any order of sending, taking and writing, that the
// bytes on the way and the bytes waiting for the disk stay bounded and that the two never wait
// for each other with bytes left to send.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueReport, gotFrom, MAX_UNWRITTEN, mayHand, RECEIVED_WINDOW, REPORT_STEP } from '../../src/node/credit.js';

const MIB = 1024 * 1024;

describe('credit', () => {
  it.each([
    ['nothing sent', 0, 0, true],
    ['one chunk on the way', MIB, 0, true],
    ['the window on the way', RECEIVED_WINDOW, 0, false],
    ['a byte under the window', RECEIVED_WINDOW - 1, 0, true],
    ['the window on the way, a report of half', RECEIVED_WINDOW + MIB, MIB, false],
    ['everything taken', 40 * MIB, 40 * MIB, true],
  ])('credit - mayHand: %s', (_what, sent, got, may) => {
    expect(mayHand(sent, got)).toBe(may);
  });

  it.each([
    ['nothing taken', 0, 0, false],
    ['one 1 MiB chunk', MIB, 0, true],
    ['a 64 KiB chunk', 64 * 1024, 0, false],
    ['four 64 KiB chunks', 256 * 1024, 0, true],
    ['a step past the last report', 3 * MIB + REPORT_STEP, 3 * MIB, true],
    ['a byte short of a step', 3 * MIB + REPORT_STEP - 1, 3 * MIB, false],
  ])('credit - dueReport: %s', (_what, took, told, due) => {
    expect(dueReport(took, told)).toBe(due);
  });

  it.each([
    ['the disk keeping up', 0, true],
    ['the bound waiting to be written', MAX_UNWRITTEN, true],
    ['a byte over the bound', MAX_UNWRITTEN + 1, false],
  ])('credit - dueReport holds the report while the disk is behind: %s', (_what, unwritten, due) => {
    expect(dueReport(5 * MIB, 4 * MIB, unwritten)).toBe(due);
  });

  it.each([
    ['a report moves it on', 0, MIB, 2 * MIB, MIB],
    ['an older report does not move it back', 2 * MIB, MIB, 3 * MIB, 2 * MIB],
    ['a report of more than was sent counts what was sent', 0, 9 * MIB, 2 * MIB, 2 * MIB],
  ])('credit - gotFrom: %s', (_what, got, reported, sent, now) => {
    expect(gotFrom(got, reported, sent)).toBe(now);
  });

  it('credit - the window is larger than the report step (else a sender could wait for a report that never comes)', () => {
    expect(RECEIVED_WINDOW).toBeGreaterThan(REPORT_STEP);
  });

  it('credit - any chunk sizes, windows and steps, any order of steps: on the way at most the window plus a chunk, unwritten at most the bound plus the window and two chunks, and every chunk is written', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 * MIB }).chain((window) => fc.tuple(fc.constant(window), fc.integer({ min: 1, max: window - 1 }), fc.integer({ min: 0, max: 4 * MIB }))),
        fc.array(fc.integer({ min: 1, max: MIB }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 400 }),
        ([window, step, max], chunks, steps) => {
          // The wire: chunks handed and not taken, in order; reports on their way back, in order;
          // the receiver's chunks taken and not yet written, in order.
          const wire: number[] = [];
          const back: number[] = [];
          const disk: number[] = [];
          let next = 0;
          let sent = 0;
          let got = 0;
          let took = 0;
          let told = 0;
          let unwritten = 0;
          let written = 0;
          const ask = (): void => {
            if (dueReport(took, told, unwritten, step, max)) back.push((told = took));
          };
          const hand = (): boolean => {
            if (next >= chunks.length || !mayHand(sent, got, window)) return false;
            sent += chunks[next];
            wire.push(chunks[next++]);
            expect(sent - took).toBeLessThanOrEqual(window - 1 + MIB);
            return true;
          };
          const take = (): boolean => {
            const c = wire.shift();
            if (c === undefined) return false;
            took += c;
            ask();
            disk.push(c);
            unwritten += c;
            expect(unwritten).toBeLessThanOrEqual(max + window + 2 * MIB);
            return true;
          };
          const write = (): boolean => {
            const c = disk.shift();
            if (c === undefined) return false;
            unwritten -= c;
            written += c;
            ask();
            return true;
          };
          const report = (): boolean => {
            const n = back.shift();
            if (n === undefined) return false;
            got = gotFrom(got, n, sent);
            return true;
          };
          const moves = [hand, take, write, report];
          // The steps the test picks, each one only if it can be taken, then whatever can still
          // move until nothing can, writing only when nothing else moves: the end must be every
          // chunk written.
          for (const s of steps) moves[s]();
          // The disk last: the slowest it may be.
          while ([hand, take, report, write].some((m) => m()));
          expect(next).toBe(chunks.length);
          expect(written).toBe(chunks.reduce((n, c) => n + c, 0));
        },
      ),
    );
  });
});
