// English: the reference catalogue. Every other language is one file typed `Catalogue` (the
// type of this object, index.ts), so that a key it lacks, or one it has more, does not compile.
// Values are plain strings, or functions of what they show for the strings that hold a value.
// Texts from elsewhere (names, messages, reasons) come in already made safe (format.ts).

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

export const en = {
  languageName: 'English',
  you: 'you',

  // ---- the session ----
  hello: (who: string) => `Parley console: you are ${who}. /help lists the commands; /quit ends.`,
  startedHere: 'No client was running on this profile: it runs in this console until /quit.',
  prompt: (to: string | null) => (to === null ? '> ' : `${to}> `),
  writingTo: (who: string) => `Writing to ${who}.`,
  bye: (messages: number, transfers: number) =>
    messages === 0 && transfers === 0
      ? 'Nothing is pending. Bye.'
      : `Still pending: ${plural(messages, 'message', 'messages')} and ${plural(transfers, 'transfer', 'transfers')}; they go when the client is next up. Bye.`,
  byeUnknown: 'Bye (what is pending could not be read).',
  clientGone: 'The client stopped: the console ends.',
  help: [
    'TEXT                 send TEXT to the current contact (//TEXT sends a text that starts with /)',
    '/to ID               write to the contact ID',
    '/send-file PATH      offer a file to the current contact',
    '/contacts            your contacts, their presence and unread messages',
    '/history [N]         the last N messages with the current contact (default 20)',
    '/requests accept|refuse ID   answer a request to talk',
    '/transfers accept|decline|cancel TID   answer or stop a file transfer',
    '/lang ru|en          the language of the console',
    '/quit                end (Ctrl+C and Ctrl+D too)',
  ],

  // ---- typed lines that are wrong ----
  unknownCommand: (command: string) => `Unknown command ${command}: /help lists them.`,
  usage: (usage: string) => `Usage: ${usage}`,
  badId: (text: string) => `"${text}" is not an id: ids are whole numbers from 1 to 1099511627775.`,
  badTid: (text: string) => `"${text}" is not a transfer id: 1 to 64 printable characters, no spaces.`,
  badLang: (text: string, langs: string) => `"${text}" is not a language here: ${langs}.`,
  notContact: (id: number) => `${id} is not one of your contacts: parley contacts add ${id} --name NAME`,
  noContact: 'Choose whom to write to first: /to ID.',
  failed: (text: string) => `Failed: ${text}`,

  // ---- confirmations ----
  confirmMessage: (packets: number, who: string) => `This message takes ${packets} packets of your limit with ${who}. Send it? [y/N] `,
  confirmFile: (packets: number, who: string) => `This file takes ${packets} packets of your file limit with ${who}. Send it? [y/N] `,
  notSent: 'Not sent.',

  // ---- lists ----
  noContacts: 'No contacts yet: parley contacts add ID --name NAME',
  presence: { online: 'online', offline: 'offline', refused: 'refused' } as Record<string, string>,
  unread: (n: number) => `${n} unread`,
  noHistory: (who: string) => `No messages with ${who} yet.`,
  status: { pending: 'pending', sent: 'sent', delivered: 'delivered', read: 'read', failed: 'failed', received: '' } as Record<string, string>,
  edited: 'edited',

  // ---- what the client tells ----
  requested: (id: number) => `${id} asks to talk to you: /requests accept ${id} or /requests refuse ${id}`,
  accepted: (id: number) => `${id} accepted: they may write to you now.`,
  refused: (id: number) => `${id} refused.`,
  serverOnline: 'The server is back: online.',
  serverOffline: 'The server went away: offline, reconnecting.',
  peerOnline: (who: string) => `${who} is online.`,
  peerOffline: (who: string) => `${who} went offline.`,
  peerRefused: (who: string) => `${who} refuses you.`,
  route: (who: string, route: string) => `${who}: connected (${route}).`,
  routeChanged: (who: string, from: string, to: string) => `${who}: the route changed, ${from} → ${to}.`,
  messageFailed: (who: string, id: string, reason: string) => `Your message ${id} to ${who} failed: ${reason}.`,
  messageEdited: (who: string, text: string) => `${who} edited a message: ${text}`,
  fileOffered: (who: string, name: string, size: string, tid: string) => `${who} offers the file ${name} (${size}): /transfers accept ${tid} or /transfers decline ${tid}`,
  fileOffering: (who: string, name: string, size: string, tid: string) => `File ${name} (${size}) offered to ${who}: transfer ${tid}.`,
  fileAccepted: (who: string, name: string, byMe: boolean) => (byMe ? `${name}: accepted, coming from ${who}.` : `${name}: ${who} accepted it, sending.`),
  fileDeclined: (who: string, name: string, reason: string) => `${name}: declined by ${who}${reason ? ` (${reason})` : ''}.`,
  fileCompleted: (name: string, where: string) => `${name}: completed${where ? `, in ${where}` : ''}.`,
  fileFailed: (name: string, reason: string) => `${name}: failed (${reason}).`,
  fileCancelled: (name: string, byMe: boolean) => `${name}: cancelled${byMe ? '' : ' by the other side'}.`,
  languageSet: 'The console speaks English now.',

  // ---- the terminal UI (src/ui/tui) ----
  uiNeedsTerminal: 'parley: the screen needs a terminal. Without one, use the line mode (parley console) or the commands (parley --help).',
  uiStartedHere: 'No client was running on this profile: it runs in this window until you quit.',
  uiYou: (who: string) => `You: ${who}`,
  uiServer: { online: 'server online', offline: 'server offline', none: 'no server' } as Record<string, string>,
  uiFolders: { main: 'Main', spam: 'Spam' } as Record<string, string>,
  uiSearch: 'Search: ',
  uiNoChat: 'No chat open: Alt+N and Alt+P go through the chats, Alt+O opens one by id.',
  uiLoading: 'Loading…',
  uiOlder: 'PageUp: older messages',
  uiQuota: (messages: string, files: string) => `Left to send: ${messages} message packets, ${files} file packets`,
  uiTimes: (sent: string, received: string | null) => (received === null ? `sent ${sent}` : `sent ${sent}, received ${received}`),
  uiReplyUnknown: 'a message not shown',
  uiOpenById: 'Open the chat with id: ',
  uiDigitsOnly: 'An id is digits only.',
  uiCommands: 'Commands here: /send-file PATH, /quit.',
  uiUnknownCommand: (command: string) => `Unknown command ${command}. Commands here: /send-file PATH, /quit; //TEXT sends a text that starts with /.`,
  uiHelp: 'Enter send · Ctrl+J new line · Alt+N/P chats · Alt+O open by id · Alt+F search · Alt+M folder · Alt+W move chat · Alt+S settings · Alt+L files · Alt+K/J select · Alt+Y copy · Alt+I copy my id · Ctrl+C quit',
  uiSelectHelp: 'Alt+K/J select · Alt+Y copy · Alt+Q reply · Esc done',
  uiCopied: 'Copied to the clipboard.',
  uiCopiedId: (id: string) => `Your id ${id} is copied to the clipboard.`,
  uiRequested: (id: number) => `${id} asks to talk to you: Alt+A accepts, Alt+R refuses.`,
  uiMessageFailed: (reason: string) => `A message failed: ${reason}.`,
  uiQuotaRefused: (who: string, n: number, files: boolean, mine: boolean) =>
    mine ? `${who} had no more ${files ? 'file' : 'message'} packets for you: ${n} refused. They may grant more.` : `${who} went over the ${files ? 'file' : 'message'} packets you granted: ${n} refused. parley limits grant grants more.`,
  uiReplying: (text: string) => `Replying to: ${text} (Esc: not a reply)`,
  uiConfirmKeys: 'Y sends, N or Esc does not.',
  uiSettings: 'Settings',
  uiSettingsHelp: '↑↓ choose · Enter or Space changes · Esc back',
  uiSettingLabels: {
    language: 'Language',
    'auto-accept-files': 'Accept files from contacts without asking',
    mouse: 'Mouse wheel scrolls (the terminal selection then needs Shift)',
    notify: 'Bell on a new message in another chat',
    'show-bits': 'Show each message as its bytes (hex and binary)',
  } as Record<string, string>,
  uiKeepHistory: (who: string) => `Keep the history with ${who} (off: cleared when the client closes)`,
  uiOnOff: (on: boolean): string => (on ? 'on' : 'off'),
  uiFiles: 'Files sent and received',
  uiFilesHelp: 'Esc back',
  uiNoFiles: 'No files sent or received yet.',
  uiTransferStates: { offered: 'offered', active: 'in progress', paused: 'paused', completed: 'completed', failed: 'failed', cancelled: 'cancelled', declined: 'declined' } as Record<string, string>,
  uiOfferedIn: 'offered to you: Alt+A accepts, Alt+D declines',
  uiOfferedOut: 'waiting for them to accept · Alt+X cancels',
  uiPaused: 'paused until the link is back · Alt+X cancels',
  uiCancelKey: 'Alt+X cancels',
  uiCompleted: (avg: string | null) => (avg === null ? 'Completed' : `Completed, average ${avg}`),
  uiFailed: (reason: string) => `Failed: ${reason}`,
  uiCancelled: (byPeer: boolean): string => (byPeer ? 'Cancelled by the other side' : 'Cancelled'),
  uiDeclined: (reason: string) => (reason ? `Declined: ${reason}` : 'Declined'),
  uiSavedIn: (where: string) => `saved as ${where}`,
};
