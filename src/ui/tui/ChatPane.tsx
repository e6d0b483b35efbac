/**
 * The open chat: its title, the contact's remaining quotas on a line of their own, and the
 * rows of the visible window (window.ts) that the App picked from the loaded pages.
 */
import React from 'react';
import { Box, Text } from 'ink';
import type { Row } from './lines.js';

export type Props = {
  title: string;
  presence: { word: string; colour?: string } | null;
  quota: string | null;
  rows: Row[];
  width: number;
  height: number;
  // Shown instead of the rows when there is nothing to show (no chat, loading, no messages).
  empty: string | null;
};

const JUSTIFY = { left: 'flex-start', right: 'flex-end', center: 'center' } as const;

export function ChatPane({ title, presence, quota, rows, width, height, empty }: Props): React.JSX.Element {
  const inner = width - 2;
  const body = Math.max(0, height - 4);
  // The rows sit at the bottom, as in every chat: blank rows above when they are fewer.
  const pad = Math.max(0, body - (empty === null ? rows.length : 1));
  return (
    <Box flexDirection="column" borderStyle="single" width={width} height={height}>
      <Box width={inner}>
        <Text bold wrap="truncate">{title}</Text>
        {presence && <Text color={presence.colour}>{'  ' + presence.word}</Text>}
      </Box>
      <Text dimColor wrap="truncate">{quota ?? ' '}</Text>
      {Array.from({ length: pad }, (_, i) => (
        <Text key={`pad${i}`}> </Text>
      ))}
      {empty !== null ? (
        <Text dimColor wrap="truncate">{empty}</Text>
      ) : (
        rows.slice(-body).map((r, i) => (
          <Box key={i} width={inner} justifyContent={JUSTIFY[r.align]}>
            <Text color={r.color} dimColor={r.dim} bold={r.bold} inverse={r.inverse} wrap="truncate">
              {r.text === '' ? ' ' : r.text}
            </Text>
          </Box>
        ))
      )}
    </Box>
  );
}
