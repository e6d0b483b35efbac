// Which rows of a chat the pane shows; pure. The chat is read by pages (attachment.ts, `page`):
// only what was loaded is measured, the pane shows `height` rows of it counted from the bottom
// less the scroll `offset`, and asks for the page before the first one loaded when the top of
// the window comes near it. So a chat of a million messages costs what its visible rows cost.
//
//   visibleWindow([2, 3, 1], 4, 0)  // => rows 2..6 of 6: block 1 whole and block 2
//   // { offset: 0, top: 2, total: 6, slices: [{ block: 1, from: 0, to: 3 }, { block: 2, from: 0, to: 1 }] }

// The rows [from, to) of the block at index `block`.
export type Slice = { block: number; from: number; to: number };

export type Window = {
  // The offset clamped to what the loaded rows allow.
  offset: number;
  // The first row shown, counted over all the loaded rows (0: the oldest loaded is shown).
  top: number;
  total: number;
  slices: Slice[];
};

// `heights`: the rows each block takes, oldest first; `offset`: rows scrolled up from the bottom.
export function visibleWindow(heights: readonly number[], height: number, offset: number): Window {
  const total = heights.reduce((a, b) => a + b, 0);
  const clamped = Math.max(0, Math.min(offset, total - height));
  const bottom = total - clamped;
  const top = Math.max(0, bottom - height);
  const slices: Slice[] = [];
  let at = 0;
  for (let block = 0; block < heights.length && at < bottom; block++) {
    const h = heights[block];
    const start = at;
    at += h;
    if (at <= top || h === 0) continue;
    slices.push({ block, from: Math.max(0, top - start), to: Math.min(h, bottom - start) });
  }
  return { offset: clamped, top, total, slices };
}

// Scrolled up, the rows in view stay put when blocks come below them (a new message): the
// offset, counted from the bottom, grows by what came after the block that was last.
// `lastKey`: the key of the last block when the offset was set; null when unknown.
//
//   keptOffset([{ key: 'a', height: 2 }, { key: 'b', height: 3 }], 'a', 4)  // => 7
export function keptOffset(blocks: ReadonlyArray<{ key: string; height: number }>, lastKey: string | null, offset: number): number {
  if (offset === 0 || lastKey === null) return offset;
  const at = blocks.findIndex((b) => b.key === lastKey);
  if (at === -1) return offset;
  return offset + blocks.slice(at + 1).reduce((n, b) => n + b.height, 0);
}

// Whether to ask for the page before the loaded one: the window is within a screen of the
// oldest loaded row, and the chat has older messages.
export function needsOlder(w: Window, height: number, hasOlder: boolean): boolean {
  return hasOlder && w.top < height;
}

