import { describe, expect, it } from 'vitest';
import type { TransferRow } from '../../../src/commands/transfers.js';
import { en } from '../../../src/ui/i18n/en.js';
import { ru } from '../../../src/ui/i18n/ru.js';
import { bar, percentOf, speedText, transferStateLine } from '../../../src/ui/tui/progress.js';

const row = (over: Partial<TransferRow>): TransferRow => ({ seq: 1, id: 't', peer: 7, direction: 'out', name: 'a.bin', size: 12_400_000, done: 0, wire_bytes: 0, state: 'active', reason: null, mb_per_s: null, avg_mb_per_s: null, path: null, ...over });

describe('progress', () => {
  it('progress - a bar in eighths of a cell', () => {
    expect(bar(0, 4)).toBe('░░░░');
    expect(bar(0.5, 4)).toBe('██░░');
    expect(bar(0.45, 10)).toBe('████▌░░░░░');
    expect(bar(1, 4)).toBe('████');
  });

  it('progress - percent floors, speeds in MB/s', () => {
    expect(percentOf({ done: 999, size: 1000, state: 'active' })).toBe(99);
    expect(speedText(3.2)).toBe('3.2 MB/s');
    expect(speedText(0.85)).toBe('850.0 kB/s');
  });

  it.each([
    [row({ done: 5_600_000, mb_per_s: 3.2 }), /45%  5\.6 MB \/ 12\.4 MB  3\.2 MB\/s  Alt\+X cancels$/],
    [row({ state: 'completed', done: 12_400_000, avg_mb_per_s: 2.9 }), /^Completed, average 2\.9 MB\/s$/],
    [row({ state: 'failed', reason: 'disk full' }), /^Failed: disk full$/],
    [row({ state: 'cancelled', reason: '' }), /^Cancelled$/],
    [row({ state: 'offered', direction: 'in' }), /Alt\+A accepts/],
  ])('progress - %#: the state line', (r, expected) => {
    expect(transferStateLine(en, r)).toMatch(expected);
  });

  it('progress - in Russian', () => {
    expect(transferStateLine(ru, row({ state: 'completed', avg_mb_per_s: 1 }))).toBe('Готово, в среднем 1.0 MB/s');
  });
});
