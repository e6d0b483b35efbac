// `parley demo` on a terminal (issue 12): run in tmux, as a person runs it, it opens the console
// on the user's profile with the echo bot as a contact; a message typed comes back as "echo: ...";
// /quit, or closing the window (SIGHUP), stops the server, the bot and both clients cleanly.
// Skipped where tmux is missing. Until the Ink UI lands, the console stands in for it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, tempHome } from '../helpers/cli.js';
import { until } from '../helpers/client.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0 && fs.existsSync('/proc/self/stat');

function tmux(socket: string, args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  return r.stdout ?? '';
}

// The window's text, its lines joined (a long line wraps at the window's width).
function screen(socket: string): string {
  return tmux(socket, ['capture-pane', '-p', '-J', '-t', 'demo']);
}

// Whether the window shows `text`, asked at most every 100 ms: each look is a tmux process.
async function shows(socket: string, text: string): Promise<boolean> {
  await new Promise((r) => setTimeout(r, 100));
  return screen(socket).includes(text);
}

function clientPointers(dir: string): string[] {
  return ['user', 'bot'].filter((p) => fs.existsSync(path.join(dir, p, 'client.path')));
}

// Linux only (/proc); tmux runs there in these tests anyway.
function processesNaming(dir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^[0-9]+$/.test(e))
    .filter((e) => {
      try {
        return fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

// Whether no process names the demo's folder any more, asked at most every 100 ms.
async function allGone(dir: string): Promise<boolean> {
  await new Promise((r) => setTimeout(r, 100));
  return processesNaming(dir).length === 0;
}

// Starts the demo in a new tmux window; resolves with the bot's id once the console is up.
async function openDemo(socket: string, dir: string): Promise<number> {
  // CI unset, as a person's terminal has it (DESIGN.md, Ink traps); the exit code shown at the end.
  const command = `cd ${ROOT} && env -u CI ${process.execPath} ${CLI} demo --console --home ${dir}; echo "EXITED $?"; sleep 30`;
  // A tmux server killed a moment ago on the same socket may still take the new session and
  // then exit under it ("server exited unexpectedly", about one time in ten here): each open has
  // a socket of its own, and a session that did not start says so at once.
  const started = spawnSync('tmux', ['-L', socket, 'new-session', '-d', '-s', 'demo', '-x', '200', '-y', '50', command], { encoding: 'utf8' });
  expect(started.status, `tmux new-session: ${started.stderr}`).toBe(0);
  await until(() => shows(socket, '/quit ends'), 'the console open', 60_000).catch((err: Error) => {
    throw new Error(`${err.message}; the window shows:\n${screen(socket)}`);
  });
  const m = /the echo bot is (\d+)/.exec(screen(socket));
  expect(m, screen(socket)).not.toBeNull();
  return Number(m![1]);
}

describe.skipIf(!hasTmux)('demo on a terminal', () => {
  it('demo - the console opens on the user with the bot as a contact; "hello" comes back as "echo: hello"; /quit stops everything; closing the window too', async () => {
    const dir = path.join(tempHome('demo-tty'), 'demo');
    const socket = `parley-test-${process.pid}`;
    const again = `${socket}-again`;
    try {
      const bot = await openDemo(socket, dir);
      tmux(socket, ['send-keys', '-t', 'demo', `/to ${bot}`, 'Enter']);
      await until(() => shows(socket, 'Writing to Echo bot'), 'the chat with the bot chosen', 10_000);
      tmux(socket, ['send-keys', '-t', 'demo', 'hello', 'Enter']);
      await until(() => shows(socket, `Echo bot (${bot}): echo: hello`), 'the echo shown', 15_000);
      tmux(socket, ['send-keys', '-t', 'demo', '/quit', 'Enter']);
      await until(() => shows(socket, 'EXITED 0'), 'the demo ended with 0', 15_000);
      expect(clientPointers(dir)).toEqual([]);
      tmux(socket, ['kill-server']);

      // Again, and the window closed under it: the same clean stop.
      await openDemo(again, dir);
      tmux(again, ['kill-server']);
      await until(() => allGone(dir), 'every process of the demo gone', 15_000);
      expect(clientPointers(dir)).toEqual([]);
    } finally {
      tmux(socket, ['kill-server']);
      tmux(again, ['kill-server']);
    }
  });
});
