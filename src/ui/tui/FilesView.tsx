/**
 * Every file sent and received, newest first, with its contact, size and state: a bar while it
 * runs, how it ended after.
 */
import React from 'react';
import { Box, Text } from 'ink';
import type { TransferRow } from '../../commands/transfers.js';
import type { Catalogue } from '../i18n/index.js';
import { transferStateLine, transferTitle } from './progress.js';
import { fit } from './wrap.js';

export type Props = { t: Catalogue; transfers: TransferRow[]; nameOf: (peer: number) => string; width: number; height: number; offset: number };

const COLOURS: Record<string, string> = { completed: 'green', failed: 'red', cancelled: 'gray', declined: 'gray', active: 'yellow', paused: 'yellow', offered: 'cyan' };

export function FilesView({ t, transfers, nameOf, width, height, offset }: Props): React.JSX.Element {
  const inner = width - 4;
  // Two rows a file; the title and the help take four.
  const fits = Math.max(0, Math.floor((height - 6) / 2));
  const newest = [...transfers].reverse();
  const shown = newest.slice(offset, offset + fits);
  return (
    <Box flexDirection="column" borderStyle="single" width={width} height={height} paddingX={1}>
      <Text bold>{t.uiFiles}</Text>
      <Text> </Text>
      {transfers.length === 0 && <Text dimColor>{t.uiNoFiles}</Text>}
      {shown.map((r) => (
        <Box key={`${r.peer}/${r.direction}/${r.id}`} flexDirection="column">
          <Text wrap="truncate">
            {fit(`${transferTitle(r)}  ${r.direction === 'out' ? '→' : '←'} ${nameOf(r.peer)}  `, inner)}
            <Text color={COLOURS[r.state]}>{t.uiTransferStates[r.state] ?? r.state}</Text>
          </Text>
          <Text color={COLOURS[r.state]} dimColor wrap="truncate">{'  ' + transferStateLine(t, r)}</Text>
        </Box>
      ))}
      <Box flexGrow={1} />
      <Text dimColor>{t.uiFilesHelp}</Text>
    </Box>
  );
}
