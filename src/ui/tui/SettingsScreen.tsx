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

// `keep`: the open chat's "keep history" and whose it is, when the client tells it.
export type Props = { t: Catalogue; settings: ShownSettings; keep: { who: string; on: boolean } | null; selected: number; width: number; height: number };

export const SETTING_ROWS = ['language', 'auto-accept-files', 'mouse', 'notify', 'show-bits'] as const;

// The per-chat row: `parley history keep --peer ID on|off`.
export const KEEP_ROW = 'keep-history';

// The rows shown: the keys the client's settings hold, and the open chat's keep when known.
export function settingRows(settings: ShownSettings, keep: boolean): string[] {
  return [...SETTING_ROWS.filter((key) => Object.hasOwn(settings, key)), ...(keep ? [KEEP_ROW] : [])];
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

export function SettingsScreen({ t, settings, keep, selected, width, height }: Props): React.JSX.Element {
  const rows = settingRows(settings, keep !== null);
  return (
    <Box flexDirection="column" borderStyle="single" width={width} height={height} paddingX={1}>
      <Text bold>{t.uiSettings}</Text>
      <Text> </Text>
      {rows.map((key, i) => (
        <Box key={key}>
          <Text inverse={i === selected} wrap="truncate">
            {(i === selected ? '▶ ' : '  ') + (key === KEEP_ROW && keep ? t.uiKeepHistory(keep.who) : (t.uiSettingLabels[key] ?? key)) + ': '}
          </Text>
          <Text color="cyan" bold>{shownValue(t, key, key === KEEP_ROW ? keep?.on : settings[key])}</Text>
        </Box>
      ))}
      <Text> </Text>
      <Text dimColor>{t.uiSettingsHelp}</Text>
    </Box>
  );
}
