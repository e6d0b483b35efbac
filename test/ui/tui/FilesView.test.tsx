import React from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { TransferRow } from '../../../src/commands/transfers.js';
import { en } from '../../../src/ui/i18n/en.js';
import { FilesView } from '../../../src/ui/tui/FilesView.js';

const row = (seq: number, over: Partial<TransferRow>): TransferRow => ({ seq, id: `t${seq}`, peer: 7, direction: 'out', name: `f${seq}.bin`, size: 2_000_000, done: 0, wire_bytes: 0, state: 'active', reason: null, mb_per_s: null, avg_mb_per_s: null, path: null, ...over });

describe('FilesView', () => {
  it('FilesView - every file, newest first, with its state', () => {
    const transfers = [
      row(1, { state: 'completed', done: 2_000_000, avg_mb_per_s: 4 }),
      row(2, { direction: 'in', state: 'failed', reason: 'disk full' }),
      row(3, { state: 'active', done: 1_000_000, mb_per_s: 1.5 }),
    ];
    const r = render(<FilesView t={en} transfers={transfers} nameOf={() => 'Bob'} width={90} height={14} offset={0} />);
    const frame = r.lastFrame() ?? '';
    expect(frame.indexOf('f3.bin')).toBeLessThan(frame.indexOf('f2.bin'));
    expect(frame).toMatch(/⇡ f3\.bin  2\.0 MB  → Bob  in progress/);
    expect(frame).toContain('50%  1.0 MB / 2.0 MB  1.5 MB/s');
    expect(frame).toMatch(/⇣ f2\.bin .*← Bob  failed/);
    expect(frame).toContain('Failed: disk full');
    expect(frame).toContain('Completed, average 4.0 MB/s');
    r.unmount();
  });

  it('FilesView - none yet', () => {
    const r = render(<FilesView t={en} transfers={[]} nameOf={String} width={60} height={8} offset={0} />);
    expect(r.lastFrame()).toContain('No files sent or received yet.');
    r.unmount();
  });
});
