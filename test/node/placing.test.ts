// The part file of a received transfer (placing.ts, partPath): beside its destination, its own for
// each transfer, and a name a file system takes.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { partPath } from '../../src/node/placing.js';

describe('placing', () => {
  it('placing - two transfers of one name into one folder write two part files', () => {
    const a = partPath('/dl/report.pdf', 5, 't1');
    const b = partPath('/dl/report.pdf', 5, 't2');
    const c = partPath('/dl/report.pdf', 6, 't1');
    expect(new Set([a, b, c]).size).toBe(3);
    expect(path.dirname(a)).toBe('/dl');
    expect(path.basename(a)).toMatch(/^report\.pdf\.[0-9a-f]{8}\.part$/);
    expect(partPath('/dl/report.pdf', 5, 't1')).toBe(a);
  });

  it('placing - a name of 255 bytes keeps its part file within 255 bytes, cut on a character', () => {
    const long = 'я'.repeat(127) + 'x';
    expect(Buffer.byteLength(long)).toBe(255);
    const part = path.basename(partPath(`/dl/${long}`, 5, 't1'));
    expect(Buffer.byteLength(part)).toBeLessThanOrEqual(255);
    expect(part.startsWith('я'.repeat(100))).toBe(true);
    expect(part).not.toContain('\ufffd');
  });
});
