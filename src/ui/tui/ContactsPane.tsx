/**
 * The contacts of one folder (main or spam): name or id, presence as a coloured word, unread
 * count, the open chat highlighted; the search field above when searching.
 */
import React from 'react';
import { Box, Text } from 'ink';
import type { StatusRow } from '../../node/status.js';
import type { Catalogue } from '../i18n/index.js';
import { oneLine } from '../console/format.js';
import type { Folder } from './model.js';
import { fit } from './wrap.js';

export type Props = {
  t: Catalogue;
  contacts: StatusRow['contacts'];
  current: number | null;
  folder: Folder;
  // null: not searching.
  search: string | null;
  // Unread messages in each folder: what waits in spam is counted, not listed.
  unread: Record<Folder, number>;
  width: number;
  height: number;
};

// Offline in a pale red: the contact is not lost, only away.
export const PRESENCE_COLOURS: Record<string, string> = { online: 'green', offline: '#e08080', refused: 'gray' };

export function ContactsPane({ t, contacts, current, folder, search, unread: waiting, width, height }: Props): React.JSX.Element {
  const inner = width - 2;
  const listHeight = Math.max(0, height - 2 - 1 - (search === null ? 0 : 1));
  // The open chat stays in view when the list is longer than the pane.
  const at = Math.max(0, contacts.findIndex((c) => c.id === current));
  const start = Math.max(0, Math.min(at - listHeight + 1, contacts.length - listHeight));
  const shown = contacts.slice(Math.max(0, start), Math.max(0, start) + listHeight);
  return (
    <Box flexDirection="column" borderStyle="single" width={width} height={height}>
      <Box>
        {(['main', 'spam'] as const).map((f) => (
          <Text key={f} bold={f === folder} inverse={f === folder}>
            {` ${t.uiFolders[f]}${waiting[f] > 0 ? ` ${waiting[f]}` : ''} `}
          </Text>
        ))}
      </Box>
      {search !== null && <Text color="yellow" wrap="truncate">{fit(t.uiSearch + search + '▏', inner)}</Text>}
      {shown.map((c) => {
        const open = c.id === current;
        const name = c.name && c.name !== String(c.id) ? oneLine(c.name) : String(c.id);
        const presence = t.presence[c.presence] ?? c.presence;
        const unread = c.unread > 0 ? ` ${c.unread}` : '';
        const nameWidth = Math.max(1, inner - 2 - presence.length - 1 - unread.length);
        return (
          <Box key={c.id} width={inner}>
            <Text inverse={open} bold={open} wrap="truncate">
              {(open ? '▶ ' : '  ') + fit(name, nameWidth).padEnd(nameWidth) + ' '}
            </Text>
            <Text color={PRESENCE_COLOURS[c.presence]} wrap="truncate">{presence}</Text>
            {unread && <Text color="yellow" bold>{unread}</Text>}
          </Box>
        );
      })}
    </Box>
  );
}
