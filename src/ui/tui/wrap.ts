// Long text cut into rows of a pane's width; pure. The chat pane counts rows to know what fits
// (window.ts), so a row made here must be one row on the screen: each character is measured as
// the terminal shows it (CJK and emoji take two cells, combining marks none), a word longer than
// the row is broken, and the spaces where a row breaks are dropped.
//
//   wrap('the quick brown fox', 10)  // => ['the quick', 'brown fox']

// Cells a code point takes. The ranges are the common wide blocks (East Asian Wide and
// Fullwidth, and emoji), not all of Unicode's tables: a rare wide character costs one cell too
// few, which ink's own wrapping then absorbs.
export function cellWidth(cp: number): number {
  if (cp === 0x200d || (cp >= 0x300 && cp <= 0x36f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return 1;
}

export function textWidth(text: string): number {
  let n = 0;
  for (const c of text) n += cellWidth(c.codePointAt(0) as number);
  return n;
}

// The start of `text` that fits in `width` cells, with an ellipsis when cut. => 'report-2…'
export function fit(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  let out = '';
  let n = 0;
  for (const c of text) {
    const w = cellWidth(c.codePointAt(0) as number);
    if (n + w > width - 1) break;
    out += c;
    n += w;
  }
  return out + '…';
}

// One paragraph (no newline) into rows.
function wrapLine(line: string, width: number): string[] {
  const rows: string[] = [];
  let row = '';
  let rowWidth = 0;
  // Words with the spaces before them: "a  b" => ['a', '  b'].
  for (const word of line.match(/\s*\S+|\s+$/g) ?? ['']) {
    const w = textWidth(word);
    if (rowWidth + w <= width) {
      row += word;
      rowWidth += w;
      continue;
    }
    const bare = row === '' ? word : word.trimStart();
    if (row !== '') rows.push(row);
    row = '';
    rowWidth = 0;
    // A word wider than a row is broken where the row ends.
    for (const c of bare) {
      const cw = cellWidth(c.codePointAt(0) as number);
      if (rowWidth + cw > width && row !== '') {
        rows.push(row);
        row = '';
        rowWidth = 0;
      }
      row += c;
      rowWidth += cw;
    }
  }
  rows.push(row);
  return rows;
}

export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, width);
  return text.split('\n').flatMap((line) => wrapLine(line, w));
}
