// The sizes of the screen's parts, from the terminal's; pure. The frame is one row shorter than
// the terminal: a frame as tall as it makes ink clear the screen on every render (DESIGN.md).
//
//   layoutOf({ columns: 100, rows: 30 }, 3)  // => { contacts: 28, chat: 72, main: 24, body: 20, ... }

export type Layout = {
  width: number;
  height: number;
  contacts: number;
  chat: number;
  // The rows of the panes (borders included), and of the chat's messages within.
  main: number;
  body: number;
  // Text rows the input box may show.
  inputRows: number;
};

export const HEADER_ROWS = 1;
export const HELP_ROWS = 1;

// `input`: the rows the input box takes now, borders and note included.
export function layoutOf(size: { columns: number; rows: number }, input: number): Layout {
  const width = Math.max(40, size.columns);
  const height = Math.max(12, size.rows - 1);
  const contacts = Math.min(32, Math.max(18, Math.floor(width * 0.28)));
  const main = Math.max(6, height - HEADER_ROWS - HELP_ROWS - input);
  return { width, height, contacts, chat: width - contacts, main, body: Math.max(1, main - 4), inputRows: Math.max(1, Math.min(6, Math.floor(height / 4))) };
}
