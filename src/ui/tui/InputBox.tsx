/**
 * The box the text is typed in: it grows with the lines typed (up to a bound, then shows the
 * lines around the cursor), or asks a question (open a chat by id, confirm the packets spent).
 */
import React from 'react';
import { Box, Text } from 'ink';
import type { Editor } from './editor.js';
import { wrap } from './wrap.js';

export type Props = {
  editor: Editor;
  width: number;
  // The most rows of text shown.
  maxRows: number;
  // A question in place of the text: its words and what was typed in answer.
  prompt: { text: string; answer: string; error: string | null } | null;
  // A short word under the box (copied, a bad path): null for none.
  note: string | null;
};

// The rows the editor's text takes in the box, and the row and column of the cursor.
export function editorRows(editor: Editor, width: number): { rows: string[]; cursorRow: number; cursorCol: number } {
  const w = Math.max(1, width - 1);
  const before = wrap(editor.text.slice(0, editor.cursor), w);
  const rows = wrap(editor.text, w);
  return { rows, cursorRow: before.length - 1, cursorCol: [...before[before.length - 1]].length };
}

export function inputHeight(editor: Editor, width: number, maxRows: number, hasNote: boolean): number {
  return Math.min(maxRows, editorRows(editor, width - 4).rows.length) + 2 + (hasNote ? 1 : 0);
}

export function InputBox({ editor, width, maxRows, prompt, note }: Props): React.JSX.Element {
  const inner = width - 4;
  let body: React.JSX.Element[];
  if (prompt !== null) {
    body = [
      <Text key="q" wrap="truncate">
        <Text color="yellow">{prompt.text}</Text>
        {prompt.answer}
        <Text inverse> </Text>
        {prompt.error !== null && <Text color="red">{'  ' + prompt.error}</Text>}
      </Text>,
    ];
  } else {
    const { rows, cursorRow, cursorCol } = editorRows(editor, inner);
    const first = Math.max(0, Math.min(cursorRow - maxRows + 1, rows.length - maxRows));
    body = rows.slice(first, first + maxRows).map((row, i) => {
      const chars = [...row];
      if (first + i !== cursorRow) return <Text key={i} wrap="truncate">{row === '' ? ' ' : row}</Text>;
      return (
        <Text key={i} wrap="truncate">
          {chars.slice(0, cursorCol).join('')}
          <Text inverse>{chars[cursorCol] ?? ' '}</Text>
          {chars.slice(cursorCol + 1).join('')}
        </Text>
      );
    });
  }
  return (
    <Box flexDirection="column" width={width}>
      <Box flexDirection="column" borderStyle="round" paddingX={1} width={width}>
        {body}
      </Box>
      {note !== null && <Text color="yellow" wrap="truncate">{note}</Text>}
    </Box>
  );
}
