// A transfer as the chat and the files view show it: a bar, the percent, the sizes and the
// speed while it runs, how it ended after; pure. Sizes in powers of 1000, as `parley transfers`.
//
//   bar(0.45, 10)  // => '████▌░░░░░'
//   transferStateLine(en, row)  // => '████▌░░░░░ 45%  5.6 MB / 12.4 MB  3.2 MB/s · Alt+X cancels'
import type { TransferRow } from '../../commands/transfers.js';
import type { Catalogue } from '../i18n/index.js';
import { oneLine, sizeText } from '../console/format.js';

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

export function bar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const eighths = Math.floor(f * width * 8);
  const full = Math.floor(eighths / 8);
  const part = EIGHTHS[eighths % 8];
  return ('█'.repeat(full) + part).padEnd(width, '░');
}

// Floor: 99.9% is not done (as `parley transfers`).
export function percentOf(t: Pick<TransferRow, 'done' | 'size' | 'state'>): number {
  if (t.size === 0) return t.state === 'completed' ? 100 : 0;
  return Math.floor((t.done * 100) / t.size);
}

// 10^6 bytes per second as the rows give it. => '3.2 MB/s', '850.0 kB/s'
export function speedText(mbPerS: number): string {
  return sizeText(Math.round(mbPerS * 1e6)) + '/s';
}

// The line under a transfer's name.
export function transferStateLine(t: Catalogue, r: TransferRow, barWidth = 12): string {
  switch (r.state) {
    case 'offered':
      return r.direction === 'in' ? t.uiOfferedIn : t.uiOfferedOut;
    case 'active':
    case 'paused': {
      const parts = [`${bar(r.size === 0 ? 0 : r.done / r.size, barWidth)} ${percentOf(r)}%`, `${sizeText(r.done)} / ${sizeText(r.size)}`];
      if (r.state === 'active' && r.mb_per_s !== null) parts.push(speedText(r.mb_per_s));
      parts.push(r.state === 'paused' ? t.uiPaused : t.uiCancelKey);
      return parts.join('  ');
    }
    case 'completed': {
      const done = t.uiCompleted(r.avg_mb_per_s === null ? null : speedText(r.avg_mb_per_s));
      return r.direction === 'in' && r.path ? `${done} · ${t.uiSavedIn(oneLine(r.path))}` : done;
    }
    case 'failed':
      return t.uiFailed(oneLine(r.reason ?? ''));
    case 'cancelled':
      return t.uiCancelled(r.reason === 'peer');
    case 'declined':
      return t.uiDeclined(oneLine(r.reason ?? ''));
  }
}

// The line with the file's name: an arrow for the side, the name and the size.
// => '⇡ report.pdf  12.4 MB'
export function transferTitle(r: TransferRow): string {
  return `${r.direction === 'out' ? '⇡' : '⇣'} ${oneLine(r.name)}  ${sizeText(r.size)}`;
}
