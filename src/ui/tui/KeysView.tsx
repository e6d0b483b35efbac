/**
 * Every key of the screen, one line each, from the catalogue: the bottom line names only the
 * few a newcomer needs first.
 */
import React from 'react';
import { Box, Text } from 'ink';
import type { Catalogue } from '../i18n/index.js';

export type Props = { t: Catalogue; width: number; height: number };

export function KeysView({ t, width, height }: Props): React.JSX.Element {
  return (
    <Box flexDirection="column" borderStyle="single" width={width} height={height} paddingX={1}>
      <Text bold wrap="truncate">{t.uiKeysTitle}</Text>
      <Text> </Text>
      {t.uiKeys.slice(0, Math.max(0, height - 4)).map((line) => (
        <Text key={line} wrap="truncate">{line}</Text>
      ))}
    </Box>
  );
}
