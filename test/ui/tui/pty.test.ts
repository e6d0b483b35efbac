// `parley` as a person runs it, in a real pseudo-terminal (tmux on a socket of its own, with CI
// unset: ink draws nothing until exit when CI is set): no client runs, so the screen starts one
// in-process; a message typed waits for a contact who never comes; Ctrl+C ends it the clean way
// on the normal screen, saying what is pending, exit 0; a closed window (SIGHUP, tmux
// kill-session) ends it too, the client it started closed. Every wait is for the pane's text,
// a file or a command's answer, bounded.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runParley } from '../../helpers/cli.js';
import { SELF_SIGNED_PASSWORD, selfSignedPerson, until } from '../../helpers/client.js';

// Each screen opened has a tmux server of its own: a server whose last session was killed a
// moment ago may still take a new session on its socket and then exit under it ("server exited
// unexpectedly", about one time in ten here).
const SOCKETS = [`parley-tui-${process.pid}`, `parley-tui-${process.pid}-again`];
const tmux = (socket: string, ...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const pane = (socket: string): string => tmux(socket, 'capture-pane', '-p', '-t', 'ui');
afterAll(() => {
  for (const socket of SOCKETS) {
    try {
      tmux(socket, 'kill-server');
    } catch {
      // None left.
    }
  }
});

async function paneShows(socket: string, text: string, ms = 20_000): Promise<void> {
  await until(async () => pane(socket).includes(text), `the pane shows "${text}"`, ms).catch((err: Error) => {
    throw new Error(`${err.message}; it shows:\n${pane(socket)}`);
  });
}

// With `keep`, the shell ignores SIGHUP so that it outlives parley and writes its exit code.
function openScreen(socket: string, home: string, codeFile: string, keep = true): void {
  const command = `${keep ? "trap '' HUP; " : ''}env -u CI PARLEY_KEY_PASSWORD='${SELF_SIGNED_PASSWORD}' LANG=C.UTF-8 '${process.execPath}' '${CLI}' --home '${home}'; echo $? > '${codeFile}'; sleep 30`;
  tmux(socket, 'new-session', '-d', '-s', 'ui', '-x', '100', '-y', '30', 'sh', '-c', command);
}

describe('tui in a terminal', () => {
  it('tui - starts the client in-process, sends, ends on Ctrl+C saying what is pending, and on a closed window the same way', async () => {
    const ann = await selfSignedPerson('ann', { up: false });
    expect((await runParley(['contacts', 'add', '77', '--name', 'Bob'], { home: ann.home })).code).toBe(0);
    expect((await runParley(['settings', 'set', 'language', 'en'], { home: ann.home })).code).toBe(0);
    const code = path.join(ann.home, 'exit-code');

    const [first, again] = SOCKETS;
    openScreen(first, ann.home, code);
    await paneShows(first, 'Left to send');
    expect(pane(first)).toContain('No client was running on this profile');
    tmux(first, 'send-keys', '-t', 'ui', '-l', 'hello from tmux');
    await paneShows(first, 'hello from tmux');
    tmux(first, 'send-keys', '-t', 'ui', 'Enter');
    await paneShows(first, '◷ pending');
    tmux(first, 'send-keys', '-t', 'ui', 'C-c');
    await paneShows(first, 'Still pending: 1 message and 0 transfers; they go when the client is next up. Bye.');
    // The normal screen is back: the frame is gone from it.
    expect(pane(first)).not.toContain('Left to send');
    await until(async () => fs.existsSync(code) && fs.readFileSync(code, 'utf8').trim() !== '', 'the exit code', 10_000);
    expect(fs.readFileSync(code, 'utf8').trim()).toBe('0');
    tmux(first, 'kill-session', '-t', 'ui');

    // A closed window: tmux hangs the terminal up and its shell is sent SIGHUP, and parley with
    // it. The client it started is closed: the profile answers commands without it, and the
    // message still waits. The process then ends by the signal, as a hung-up program does (its
    // shell is gone with the window: no exit code to read).
    openScreen(again, ann.home, code, false);
    await paneShows(again, 'hello from tmux');
    tmux(again, 'kill-session', '-t', 'ui');
    await until(async () => {
      const r = await runParley(['status', '--json'], { home: ann.home });
      return r.code === 0 && JSON.parse(r.stdout).listen_port === null;
    }, 'the client stopped after SIGHUP', 15_000);
    const history = await runParley(['history', '--peer', '77', '--json'], { home: ann.home });
    expect(JSON.parse(history.stdout.trim().split('\n')[0])).toMatchObject({ text: 'hello from tmux', status: 'pending' });
  });
});
