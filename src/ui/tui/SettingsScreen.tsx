/**
 * The settings a person changes here, one row each with its value: language, accepting files,
 * the mouse, the bell, the bits view. A key the client does not know (yet) is not shown.
 */
import React from 'react';
import { Box, Text } from 'ink';
import type { ShownSettings } from '../attachment.js';
import type { Catalogue } from '../i18n/index.js';
import { catalogue } from '../i18n/index.js';
import { LANGUAGES, type Language } from '../../projections/settings.js';

export type Props = { t: Catalogue; settings: ShownSettings; selected: number; width: number; height: number };

export const SETTING_ROWS = ['language', 'auto-accept-files', 'mouse', 'notify', 'show-bits'] as const;

// The rows shown: the keys the client's settings hold.
export function settingRows(settings: ShownSettings): string[] {
  return SETTING_ROWS.filter((key) => Object.hasOwn(settings, key));
}

// The value a row changes to: the next language, or on for off.
export function nextValue(key: string, value: unknown): string {
  if (key === 'language') return LANGUAGES[(LANGUAGES.indexOf(value as Language) + 1) % LANGUAGES.length];
  return value === 'on' || value === true ? 'off' : 'on';
}

function shownValue(t: Catalogue, key: string, value: unknown): string {
  if (key === 'language') return LANGUAGES.includes(value as Language) ? catalogue(value as Language).languageName : String(value);
  return t.uiOnOff(value === 'on' || value === true);
}

export function SettingsScreen({ t, settings, selected, width, height }: Props): React.JSX.Element {
  const rows = settingRows(settings);
  return (
    <Box flexDirection="column" borderStyle="single" width={width} height={height} paddingX={1}>
      <Text bold>{t.uiSettings}</Text>
      <Text> </Text>
      {rows.map((key, i) => (
        <Box key={key}>
          <Text inverse={i === selected} wrap="truncate">
            {(i === selected ? '▶ ' : '  ') + (t.uiSettingLabels[key] ?? key) + ': '}
          </Text>
          <Text color="cyan" bold>{shownValue(t, key, settings[key])}</Text>
        </Box>
      ))}
      <Text> </Text>
      <Text dimColor>{t.uiSettingsHelp}</Text>
    </Box>
  );
}
