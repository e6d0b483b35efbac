// The whole screen on a fake client (fake.ts): what it shows at the start, what keys do, how
// events change it in place. Every wait is for a frame, bounded.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { osc52 } from '../../../src/ui/tui/controls.js';
import { fakeClient, frameWhere, message, renderApp, snapshot, statusRow, unmount, type Rendered } from './fake.js';

let r: Rendered | null = null;
afterEach(async () => {
  if (r) await unmount(r);
  r = null;
});

const sent = (fake: ReturnType<typeof fakeClient>, verb: string) => fake.runs.filter((a) => a[0] === verb);

describe('App', () => {
  it('App - opens the first contact, shows own id, presence words, the quota line and the messages', async () => {
    const fake = fakeClient({ chats: { 7: [message(1, 7, 'hello Ann'), message(2, 7, 'hi Bob', { direction: 'out', status: 'delivered' })] } });
    r = await renderApp(fake, snapshot(), { columns: 130, rows: 24 });
    const frame = await frameWhere(r, (f) => f.includes('hi Bob') && f.includes('Left to send'));
    expect(frame).toContain('You: Ann (42)');
    expect(frame).toMatch(/Bob +online/);
    expect(frame).toMatch(/Eve +offline 2/);
    expect(frame).toMatch(/11 +refused/);
    expect(frame).toContain('Left to send: 997/1000 message packets, 1000/1000 file packets · they may send 990 + 500');
    expect(frame).toContain('✓✓ delivered');
    // The frame is one row shorter than the terminal (24).
    expect(frame.split('\n')).toHaveLength(23);
  });

  it('App - Enter alone sends; a chunk with text and Enter is typed; Ctrl+J and Alt+Enter add lines; Ctrl+Z undoes', async () => {
    const fake = fakeClient();
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('Left to send'));
    await r.type('first line');
    await r.type('\n');
    await r.type('second');
    await r.type('\x1b\r');
    await r.type('third');
    let frame = await frameWhere(r, (f) => f.includes('third'));
    expect(frame).toMatch(/│ first line +│\n│ second +│\n│ third/);
    // A paste with its line breaks: text, not sent.
    await r.type(' pasted\rstill text');
    frame = await frameWhere(r, (f) => f.includes('still text'));
    expect(sent(fake, 'send')).toEqual([]);
    await r.type('\x1a');
    frame = await frameWhere(r, (f) => !f.includes('still text'));
    expect(frame).toContain('third');
    await r.type('\r');
    await frameWhere(r, (f) => !f.includes('third'));
    expect(sent(fake, 'send')).toEqual([['send', '--to', '7', '--json', '--', 'first line\nsecond\nthird']]);
    // The sent message shows when its event comes, then its marks change in place.
    fake.push({ type: 'message.sent', id: 'x1', peer: 7, text: 'first line\nsecond\nthird', packets: 1 });
    frame = await frameWhere(r, (f) => f.includes('◷ pending'));
    fake.push({ type: 'message.transmitted', id: 'x1', peer: 7 });
    await frameWhere(r, (f) => f.includes('✓ sent'));
    fake.push({ type: 'message.delivered', id: 'x1', peer: 7, receivedAt: Date.now() });
    await frameWhere(r, (f) => f.includes('✓✓ delivered'));
    fake.push({ type: 'message.read', id: 'x1', peer: 7, by: 'peer' });
    frame = await frameWhere(r, (f) => f.includes('✓✓ read'));
    expect(frame.match(/first line/g)).toHaveLength(1);
  });

  it('App - hotkeys on a Russian layout: Alt+т is Alt+N, the next chat', async () => {
    const fake = fakeClient({ chats: { 9: [message(1, 9, 'from Eve')] } });
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('▶ Bob'));
    await r.type('\x1bт');
    const frame = await frameWhere(r, (f) => f.includes('▶ Eve') && f.includes('from Eve'));
    expect(frame).toContain('Eve (9)');
    // Eve had unread messages: opening the chat reads it.
    expect(fake.runs).toContainEqual(['read', '--peer', '9', '--json']);
    await r.type('\x1bз');
    await frameWhere(r, (f) => f.includes('▶ Bob'));
  });

  it('App - the id field takes digits only, errs on a bad or unknown id, opens a known one', async () => {
    const fake = fakeClient();
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('▶ Bob'));
    await r.type('\x1bo');
    await frameWhere(r, (f) => f.includes('Open the chat with id:'));
    await r.type('1x');
    let frame = await frameWhere(r, (f) => f.includes('An id is digits only.'));
    expect(frame).toContain('Open the chat with id: 1');
    await r.type('23');
    await r.type('\r');
    frame = await frameWhere(r, (f) => f.includes('123 is not one of your contacts'));
    await r.type('\x7f\x7f\x7f');
    await r.type('0');
    await r.type('\r');
    frame = await frameWhere(r, (f) => f.includes('"0" is not an id'));
    await r.type('\x7f');
    await r.type('9');
    await r.type('\r');
    frame = await frameWhere(r, (f) => f.includes('▶ Eve'));
    expect(frame).not.toContain('Open the chat with id');
  });

  it('App - search by name or id, and the spam folder', async () => {
    const fake = fakeClient({ answers: (argv) => (argv[0] === 'contacts' ? { out: '{"id":11,"name":"11","folder":"spam"}\n', err: '', exit: 0 } : undefined) });
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('▶ Bob'));
    await frameWhere(r, (f) => !/│ +11 +refused/.test(f));
    await r.type('\x1bf');
    await r.type('ev');
    let frame = await frameWhere(r, (f) => f.includes('Search: ev'));
    expect(frame).not.toMatch(/│. Bob /);
    await r.type('\r');
    frame = await frameWhere(r, (f) => f.includes('▶ Eve'));
    await r.type('\x1b');
    await frameWhere(r, (f) => !f.includes('Search:'));
    await r.type('\x1bm');
    frame = await frameWhere(r, (f) => /11 +refused/.test(f));
    expect(frame).not.toContain('Bob ');
    // Alt+W moves the open chat to the other folder.
    await r.type('\x1bm');
    await frameWhere(r, (f) => f.includes('▶ Eve'));
    await r.type('\x1bw');
    await frameWhere(r, () => fake.runs.some((a) => a[0] === 'contacts' && a[1] === 'move'));
    expect(fake.runs).toContainEqual(['contacts', 'move', '9', 'spam']);
  });

  it('App - a long message asks to confirm its packets, y (or н) sends with --yes, n does not', async () => {
    const fake = fakeClient();
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('Left to send'));
    const long = 'x'.repeat(70_000);
    await r.type(long);
    await r.type('\r');
    const asked = await frameWhere(r, (f) => f.includes('This message takes 2 packets'));
    // Asked in the chat body too, where the notices go.
    expect(asked).toMatch(/— This message takes 2 packets/);
    await r.type('н');
    await frameWhere(r, () => sent(fake, 'send').length === 1);
    expect(sent(fake, 'send')[0].slice(0, 5)).toEqual(['send', '--to', '7', '--json', '--yes']);
    await r.type(long);
    await r.type('\r');
    await frameWhere(r, (f) => f.includes('This message takes 2 packets'));
    await r.type('n');
    await frameWhere(r, (f) => f.includes('Not sent.'));
    expect(sent(fake, 'send')).toHaveLength(1);
  });

  it('App - /send-file completes the path with Tab and asks to confirm the file packets', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tui-send-'));
    fs.writeFileSync(path.join(dir, 'report.pdf'), Buffer.alloc(1000));
    const fake = fakeClient();
    r = await renderApp(fake, snapshot(), { columns: 100, rows: 24 }, dir);
    await frameWhere(r, (f) => f.includes('Left to send'));
    await r.type('/send-file rep');
    await r.type('\t');
    await frameWhere(r, (f) => f.includes('/send-file report.pdf'));
    await r.type('\r');
    await frameWhere(r, (f) => f.includes('This file takes 1 packet of'));
    await r.type('y');
    await frameWhere(r, () => sent(fake, 'send-file').length === 1);
    expect(sent(fake, 'send-file')[0]).toEqual(['send-file', '--to', '7', '--json', '--yes', '--', path.join(dir, 'report.pdf')]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('App - a transfer in the chat: offered, progress with speed, cancel key, completed with the average', async () => {
    const fake = fakeClient({
      answers: (argv) =>
        argv[0] === 'transfers' && argv[1] === '--json'
          ? { out: JSON.stringify({ seq: 1001, id: 't1', peer: 7, direction: 'in', name: 'movie.mkv', size: 10_000_000, done: 4_500_000, wire_bytes: 0, state: 'active', reason: null, mb_per_s: 2.5, avg_mb_per_s: 2, path: null }) + '\n', err: '', exit: 0 }
          : undefined,
    });
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('Left to send'));
    fake.push({ type: 'transfer.offered', id: 't1', peer: 7, direction: 'in', name: 'movie.mkv', size: 10_000_000, chunkSize: 1000 });
    await frameWhere(r, (f) => f.includes('⇣ movie.mkv  10.0 MB') && f.includes('offered to you'));
    await r.type('\x1bф');
    await frameWhere(r, () => fake.runs.some((a) => a[1] === 'accept'));
    expect(fake.runs).toContainEqual(['transfers', 'accept', '--peer', '7', '--json', '--', 't1']);
    fake.push({ type: 'transfer.accepted', id: 't1', peer: 7, direction: 'in' });
    // The live speed is read each second while it runs.
    const frame = await frameWhere(r, (f) => f.includes('45%'), 4000);
    expect(frame).toContain('4.5 MB / 10.0 MB  2.5 MB/s');
    await r.type('\x1bx');
    await frameWhere(r, () => fake.runs.some((a) => a[1] === 'cancel'));
    expect(fake.runs).toContainEqual(['transfers', 'cancel', '--json', '--', 't1']);
    fake.push({ type: 'transfer.completed', id: 't1', peer: 7, direction: 'in', path: '/d/movie.mkv' });
    await frameWhere(r, (f) => f.includes('Completed, average 2.0 MB/s'));
  });

  it('App - notices in the chat: a request with its keys, a route change, the server gone; the bell for another chat', async () => {
    const fake = fakeClient();
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('Left to send'));
    fake.push({ type: 'contact.requested', peer: 555 });
    fake.feed.onStatus(statusRow({ server: 'offline', contacts: [{ id: 7, name: 'Bob', presence: 'online', route: 'relay', unread: 0 }, ...statusRow().contacts.slice(1)] }));
    await frameWhere(r, (f) => f.includes('Bob: the route changed, direct → relay.') && f.includes('The server went away'));
    fake.feed.onStatus(statusRow());
    let frame = await frameWhere(r, (f) => f.includes('The server is back: online.'));
    fake.push({ type: 'quota.refused', peer: 7, direction: 'outbound', kind: 'messages', n: 3 });
    await frameWhere(r, (f) => f.includes('Bob had no more message packets for you: 3 refused.'));
    await r.type('\x1bк');
    await frameWhere(r, () => fake.runs.some((a) => a[0] === 'requests'));
    expect(fake.runs).toContainEqual(['requests', 'refuse', '555']);
    // A message in another chat rings; one in the open chat does not.
    fake.push({ type: 'message.received', id: 'r1', peer: 7, text: 'here', sentAt: Date.now() });
    await frameWhere(r, (f) => f.includes('here'));
    expect(r.written).not.toContain('\x07');
    fake.push({ type: 'message.received', id: 'r2', peer: 9, text: 'elsewhere', sentAt: Date.now() });
    await frameWhere(r, () => r!.written.includes('\x07'));
    frame = r.frame();
    expect(frame).not.toContain('elsewhere');
  });

  it('App - Alt+K selects a message, Alt+Y copies it with OSC 52, Alt+I copies the own id', async () => {
    const fake = fakeClient({ chats: { 7: [message(1, 7, 'copy me'), message(2, 7, 'not me')] } });
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('not me'));
    await r.type('\x1bk');
    await r.type('\x1bk');
    await r.type('\x1bн');
    await frameWhere(r, (f) => f.includes('Copied to the clipboard.'));
    expect(r.written).toContain(osc52('copy me'));
    expect(osc52('copy me')).toBe('\x1b]52;c;Y29weSBtZQ==\x07');
    await r.type('\x1bi');
    await frameWhere(r, (f) => f.includes('Your id 42 is copied'));
    expect(r.written).toContain(osc52('42'));
  });

  it('App - Alt+Q on the selected message makes the next one a reply, shown quoting it', async () => {
    const fake = fakeClient({ chats: { 7: [message(1, 7, 'the question'), message(2, 7, 'other')] } });
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('other'));
    await r.type('\x1bk');
    await r.type('\x1bk');
    await r.type('\x1bq');
    await frameWhere(r, (f) => f.includes('Replying to: the question'));
    await r.type('the answer');
    await r.type('\r');
    await frameWhere(r, () => sent(fake, 'send').length === 1);
    expect(sent(fake, 'send')[0]).toEqual(['send', '--to', '7', '--json', '--reply-to', 'm1', '--', 'the answer']);
    fake.push({ type: 'message.sent', id: 'x9', peer: 7, text: 'the answer', packets: 1, replyTo: 'm1' });
    await frameWhere(r, (f) => f.includes('┃ Bob: the question'));
  });

  it('App - the settings screen switches the language live, and the mouse setting turns reporting on', async () => {
    const fake = fakeClient();
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('Left to send'));
    await r.type('\x1bs');
    await frameWhere(r, (f) => f.includes('Language: English'));
    await r.type('\r');
    await frameWhere(r, () => fake.runs.some((a) => a[0] === 'settings'));
    expect(fake.runs).toContainEqual(['settings', 'set', 'language', 'ru']);
    // The client tells the new settings; every string follows.
    fake.feed.onSettings({ ...snapshot().settings, language: 'ru', mouse: 'on' });
    let frame = await frameWhere(r, (f) => f.includes('Язык: русский'));
    expect(frame).toContain('Вы: Ann (42)');
    expect(r.written).toContain('\x1b[?1000h\x1b[?1006h');
    await r.type('\x1b');
    frame = await frameWhere(r, (f) => f.includes('Осталось отправить'));
    expect(frame).toContain('в сети');
    fake.feed.onSettings({ ...snapshot().settings, language: 'en', mouse: 'off' });
    await frameWhere(r, (f) => f.includes('Left to send'));
    expect(r.written[r.written.length - 1]).toBe('\x1b[?1000l\x1b[?1006l');
  });

  it('App - the open chat\'s keep-history row, when the client tells it, runs history keep', async () => {
    const fake = fakeClient();
    const contacts = statusRow().contacts.map((c) => ({ ...c, folder: 'main', keep_history: true }));
    r = await renderApp(fake, snapshot({ status: statusRow({ contacts }) }));
    await frameWhere(r, (f) => f.includes('Left to send'));
    await r.type('\x1bs');
    await frameWhere(r, (f) => f.includes('Keep the history with Bob (off: cleared when the client closes): on'));
    await r.type('\x1b[A');
    await r.type('\r');
    await frameWhere(r, () => fake.runs.some((a) => a[0] === 'history'));
    expect(fake.runs).toContainEqual(['history', 'keep', '--peer', '7', 'off']);
  });

  it('App - a chat opens at its last page, scrolls by keys and wheel, and reads older pages only as it scrolls', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => message(i + 1, 7, `message ${i + 1}`));
    const fake = fakeClient({ chats: { 7: rows } });
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('message 1000'));
    expect(fake.pages).toEqual([{ peer: 7, limit: 100 }]);
    await r.type('\x1b[5~');
    const up = await frameWhere(r, (f) => !f.includes('message 1000'));
    // A message that comes meanwhile does not move what is read.
    fake.push({ type: 'message.received', id: 'late', peer: 7, text: 'message late', sentAt: Date.now() });
    await frameWhere(r, () => fake.runs.some((a) => a[0] === 'read'));
    expect(r.frame()).toBe(up);
    await r.type('\x1b[6~');
    await r.type('\x1b[6~');
    await frameWhere(r, (f) => f.includes('message late'));
    await r.type('\x1b[5~');
    // The wheel scrolls (when reported): three rows a notch.
    await r.type('\x1b[<65;10;10M');
    for (let i = 0; i < 30; i++) await r.type('\x1b[5~');
    await frameWhere(r, () => fake.pages.length >= 2);
    expect(fake.pages[1]).toEqual({ peer: 7, limit: 100, before: 901 });
  });

  it('App - Alt+H lists every key in place of the chat; any key goes back', async () => {
    const fake = fakeClient();
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('Left to send'));
    expect(r.frame()).toContain('Alt+H all keys');
    await r.type('\x1bр');
    await frameWhere(r, (f) => f.includes('Alt+W                move the open chat to spam'));
    // The key that goes back is not typed.
    await r.type('x');
    const back = await frameWhere(r, (f) => f.includes('Left to send'));
    expect(back).toMatch(/╭─+╮\n│ +│\n╰/);
  });

  it('App - Ctrl+C and /quit ask to end; the client gone ends with its reason', async () => {
    const fake = fakeClient();
    r = await renderApp(fake);
    await frameWhere(r, (f) => f.includes('Left to send'));
    await r.type('\x03');
    expect(r.quits).toEqual([null]);
    await r.type('/quit');
    await r.type('\r');
    expect(r.quits).toEqual([null, null]);
    fake.feed.onEnd('too slow');
    await frameWhere(r, () => r!.quits.length === 3);
    expect(r.quits[2]).toBe('too slow');
  });
});
