/**
 * The Ink UI: contacts beside the open chat, the input box under them, or the settings or the
 * files in their place. It renders the state folded from the client's feed (model.ts) and sends
 * intents (intents.ts, keys.ts for what a key means); it never touches a socket.
 */
import React, { useEffect, useRef, useState } from 'react';
import { Box, Text, useStdin, useStdout } from 'ink';
import type { Snapshot } from '../attachment.js';
import { catalogue } from '../i18n/index.js';
import { LANGUAGES, type Language } from '../../projections/settings.js';
import { who } from '../console/format.js';
import type { Feed, TuiClient } from './client.js';
import { ChatPane } from './ChatPane.js';
import { ContactsPane, PRESENCE_COLOURS } from './ContactsPane.js';
import { empty, type Editor } from './editor.js';
import { FilesView } from './FilesView.js';
import { InputBox, inputHeight } from './InputBox.js';
import { KeysView } from './KeysView.js';
import { foldersOf, loadPage, markRead, PAGE_ROWS, quotaOf, transfersOf } from './intents.js';
import { readKeys } from './keys.js';
import { layoutOf, type Layout } from './layout.js';
import { chatBlocks, type Block, type Row } from './lines.js';
import { contactList, evolve, initialModel, isOn, keepOf, nameOf, rings, unreadByFolder, transfersOf as transfersIn, type Action, type Folder, type Model } from './model.js';
import { onKey, type Ui } from './controls.js';
import { SettingsScreen } from './SettingsScreen.js';
import { keptOffset, needsOlder, visibleWindow } from './window.js';

export type Terminal = { write: (text: string) => void };

export type Props = {
  client: TuiClient;
  feed: Feed;
  snapshot: Snapshot;
  // Where /send-file's relative paths are taken from.
  cwd: string;
  // The bell, the clipboard (OSC 52) and mouse reporting are written here, not in the frame.
  terminal: Terminal;
  // The terminal's size; else stdout's.
  size?: { columns: number; rows: number };
  // Asked to end: /quit, Ctrl+C, or the client gone (`reason` then).
  onQuit: (reason: string | null) => void;
  startedHere?: boolean;
};

export type Mode = 'chat' | 'openId' | 'search' | 'settings' | 'files' | 'confirm' | 'keys';

const MOUSE_ON = '\x1b[?1000h\x1b[?1006h';
export const MOUSE_OFF = '\x1b[?1000l\x1b[?1006l';

export function languageOf(m: Model): Language {
  return LANGUAGES.find((l) => l === m.settings.language) ?? 'en';
}

// The chat's rows in view and what the window says of them.
// `last`: the chat's last block as last drawn, so that a message coming while the chat is
// scrolled up does not move what is read.
type ChatView = { blocks: Block[]; rows: Row[]; older: boolean; offset: number; maxOffset: number; last: { peer: number; key: string } | null };

function chatView(m: Model, ui: Ui, layout: Layout, last: ChatView['last']): ChatView {
  if (!m.chat) return { blocks: [], rows: [], older: false, offset: 0, maxOffset: 0, last: null };
  const t = catalogue(languageOf(m));
  const peer = m.chat.peer;
  const blocks = chatBlocks({
    t,
    language: languageOf(m),
    width: layout.chat - 2,
    rows: m.chat.rows,
    notices: m.notices.filter((n) => n.peer === null || n.peer === peer),
    transfers: transfersIn(m, peer),
    nameOf: (p) => nameOf(m, p),
    selected: ui.selected,
    showBits: isOn(m.settings, 'show-bits'),
    me: m.status.id ?? 0,
  });
  const heights = blocks.map((b) => ({ key: b.key, height: b.rows.length }));
  const offset = keptOffset(heights, last?.peer === peer ? last.key : null, ui.offset);
  const w = visibleWindow(heights.map((b) => b.height), layout.body, offset);
  const rows = w.slices.flatMap((s) => blocks[s.block].rows.slice(s.from, s.to));
  const end = blocks[blocks.length - 1];
  return { blocks, rows, older: needsOlder(w, layout.body, m.chat.hasOlder) && !m.chat.loading, offset: w.offset, maxOffset: Math.max(0, w.total - layout.body), last: end ? { peer, key: end.key } : null };
}

export function App(props: Props): React.JSX.Element {
  const { client, feed, terminal } = props;
  const { stdout } = useStdout();
  const { setRawMode, internal_eventEmitter: input } = useStdin();
  const [, setTick] = useState(0);
  const rerender = (): void => setTick((n) => n + 1);
  // State lives in refs, changed synchronously: keys that come before the next render (a burst
  // of typing) each see the state the one before left.
  const model = useRef<Model>(initialModel(props.snapshot));
  const ui = useRef<Ui>({ mode: 'chat', editor: empty() as Editor, folder: 'main' as Folder, search: '', idAnswer: '', idError: null, confirm: null, selected: null, replyTo: null, offset: 0, note: props.startedHere ? catalogue(languageOf(initialModel(props.snapshot))).uiStartedHere : null, settingsRow: 0, filesOffset: 0 });
  const [size, setSize] = useState(() => props.size ?? { columns: stdout.columns || 100, rows: stdout.rows || 30 });
  const loadingOlder = useRef(false);

  const dispatch = (action: Action): void => {
    model.current = evolve(model.current, action);
    rerender();
  };
  const setUi = (patch: Partial<Ui>): void => {
    ui.current = { ...ui.current, ...patch };
    rerender();
  };

  async function openChat(peer: number): Promise<void> {
    setUi({ offset: 0, selected: null });
    dispatch({ type: 'open', peer });
    // A page that cannot be read (the client going away) shows an empty chat, not "Loading…".
    const rows = await loadPage(client, peer);
    dispatch({ type: 'page', peer, rows: rows ?? [], older: false, limit: PAGE_ROWS });
    if ((model.current.status.contacts.find((c) => c.id === peer)?.unread ?? 0) > 0) await markRead(client, peer);
    const quota = await quotaOf(client, peer);
    if (quota) dispatch({ type: 'quota', peer, quota });
  }

  const t = catalogue(languageOf(model.current));
  const inputRows = layoutOf(size, 3).inputRows;
  const note = ui.current.note;
  const layout = layoutOf(size, ui.current.mode === 'openId' || ui.current.mode === 'confirm' ? 3 + (note ? 1 : 0) : inputHeight(ui.current.editor, size.columns, inputRows, note !== null));
  const lastDrawn = useRef<ChatView['last']>(null);
  const view = chatView(model.current, ui.current, layout, lastDrawn.current);
  lastDrawn.current = view.last;
  // Kept as drawn: what came below the rows in view moved the offset, not the rows.
  if (ui.current.offset !== 0) ui.current = { ...ui.current, offset: view.offset };

  const context = { client, cwd: props.cwd, terminal, model, ui, setUi, dispatch, openChat, view, layout, quit: () => props.onQuit(null) };
  const handler = useRef(context);
  handler.current = context;

  useEffect(() => {
    setRawMode(true);
    const listener = (raw: string): void => {
      for (const key of readKeys(raw)) onKey(handler.current, key);
    };
    input.on('input', listener);
    return () => {
      input.off('input', listener);
      setRawMode(false);
    };
  }, [input, setRawMode]);

  useEffect(() => {
    let readQueued = false;
    const stop = feed.listen({
      onEvent(e) {
        const before = model.current;
        dispatch({ type: 'event', event: e });
        if (rings(before, e)) terminal.write('\x07');
        const open = model.current.chat?.peer;
        if (e.type === 'message.received' && e.peer === open && !readQueued) {
          readQueued = true;
          void markRead(client, e.peer).finally(() => (readQueued = false));
        }
        if (e.type.startsWith('quota.') && 'peer' in e && e.peer === open) void quotaOf(client, e.peer).then((q) => q && dispatch({ type: 'quota', peer: e.peer, quota: q }));
        if (e.type === 'contact.added' || e.type === 'contact.moved') void foldersOf(client).then((rows) => dispatch({ type: 'folders', rows }));
      },
      onStatus: (status) => dispatch({ type: 'status', status, at: Date.now() }),
      onSettings: (settings) => dispatch({ type: 'settings', settings }),
      onEnd: (reason) => props.onQuit(reason ?? 'stopped'),
    });
    void foldersOf(client).then((rows) => dispatch({ type: 'folders', rows }));
    void transfersOf(client).then((rows) => dispatch({ type: 'transfers', rows }));
    const first = contactList(model.current, 'main', '')[0];
    if (first) void openChat(first.id);
    return stop;
  }, []);

  // The live speed of running transfers: read again each second while one runs.
  useEffect(() => {
    const timer = setInterval(() => {
      if (Object.values(model.current.transfers).some((r) => r.state === 'active')) void transfersOf(client, 50).then((rows) => dispatch({ type: 'transfers', rows }));
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  const mouse = isOn(model.current.settings, 'mouse');
  useEffect(() => {
    if (!mouse) return;
    terminal.write(MOUSE_ON);
    return () => terminal.write(MOUSE_OFF);
  }, [mouse]);

  useEffect(() => {
    if (props.size) return;
    const onResize = (): void => setSize({ columns: stdout.columns, rows: stdout.rows });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);

  // Near the top of what is loaded: the page before it.
  useEffect(() => {
    const chat = model.current.chat;
    if (!view.older || !chat || loadingOlder.current) return;
    loadingOlder.current = true;
    void loadPage(client, chat.peer, chat.rows[0]?.seq).then((rows) => {
      loadingOlder.current = false;
      // None read: no more asked, or a failing client would be asked at every frame.
      dispatch({ type: 'page', peer: chat.peer, rows: rows ?? [], older: true, limit: PAGE_ROWS });
    });
  });

  const m = model.current;
  const u = ui.current;
  const me = m.status.id === null ? (m.status.name ?? t.you) : who(m.status.id, m.status.name);
  const contact = m.chat ? m.status.contacts.find((c) => c.id === m.chat?.peer) : undefined;
  const quota = m.chat ? m.quotas[m.chat.peer] : undefined;
  const emptyText = !m.chat ? t.uiNoChat : m.chat.loading ? t.uiLoading : view.rows.length === 0 ? t.noHistory(nameOf(m, m.chat.peer)) : null;
  const prompt = u.mode === 'openId' ? { text: t.uiOpenById, answer: u.idAnswer, error: u.idError } : u.mode === 'confirm' && u.confirm ? { text: u.confirm.question, answer: '', error: t.uiConfirmKeys } : null;

  return (
    <Box flexDirection="column" width={layout.width} height={layout.height}>
      <Box width={layout.width}>
        <Text bold color="magenta">Parley </Text>
        <Text wrap="truncate">{t.uiYou(me)}  </Text>
        <Text color={m.status.server === 'online' ? 'green' : '#e08080'}>{t.uiServer[m.status.server] ?? m.status.server}</Text>
      </Box>
      {u.mode === 'settings' ? (
        <SettingsScreen t={t} settings={m.settings} keep={m.current !== null && keepOf(m, m.current) !== null ? { who: nameOf(m, m.current), on: keepOf(m, m.current) === true } : null} selected={u.settingsRow} width={layout.width} height={layout.main} />
      ) : u.mode === 'keys' ? (
        <KeysView t={t} width={layout.width} height={layout.main} />
      ) : u.mode === 'files' ? (
        <FilesView t={t} transfers={transfersIn(m, null)} nameOf={(p) => nameOf(m, p)} width={layout.width} height={layout.main} offset={u.filesOffset} />
      ) : (
        <Box height={layout.main}>
          <ContactsPane t={t} contacts={contactList(m, u.folder, u.search)} current={m.current} folder={u.folder} search={u.mode === 'search' || u.search !== '' ? u.search : null} unread={unreadByFolder(m)} width={layout.contacts} height={layout.main} />
          <ChatPane
            title={m.chat ? nameOf(m, m.chat.peer) + (contact && contact.name !== String(contact.id) ? ` (${contact.id})` : '') : ''}
            presence={contact ? { word: (t.presence[contact.presence] ?? contact.presence) + (contact.route ? ` (${contact.route})` : ''), colour: PRESENCE_COLOURS[contact.presence] } : null}
            quota={quota ? t.uiQuota(`${quota.outbound.messages.left}/${quota.outbound.messages.granted}`, `${quota.outbound.files.left}/${quota.outbound.files.granted}`, quota.inbound ? `${quota.inbound.messages.left} + ${quota.inbound.files.left}` : null) : null}
            rows={view.rows}
            width={layout.chat}
            height={layout.main}
            empty={emptyText}
          />
        </Box>
      )}
      <InputBox editor={u.editor} width={layout.width} maxRows={layout.inputRows} prompt={prompt} note={note} />
      <Text dimColor wrap="truncate">{u.selected !== null ? t.uiSelectHelp : t.uiHelp}</Text>
    </Box>
  );
}
