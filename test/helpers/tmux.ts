// A program in a tmux window (a real pseudo-terminal), as the package tests drive the screen:
// start a shell command in a detached session, read the pane, wait for a text, and read the exit
// code the command's shell wrote to a file (tmux does not always say it in time).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export type Pane = {
  keys: (...keys: string[]) => void;
  // Types text as it is (send-keys -l).
  type: (text: string) => void;
  capture: () => string;
  // Resolves once the pane shows `text` (or one of them); rejects after `ms` with the pane and
  // `detail()`.
  shows: (text: string | string[], ms?: number, detail?: () => string) => Promise<void>;
  // The exit code the command wrote to `codeFile`, waited for at most `ms`.
  exitCode: (codeFile: string, ms: number) => Promise<string>;
  kill: () => void;
};

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// `command` runs under `sh -c` in a session of its own tmux server (socket name `socket`).
export function openPane(socket: string, command: string, size = { columns: 100, rows: 30 }): Pane {
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-s', 'ui', '-x', String(size.columns), '-y', String(size.rows), 'sh', '-c', command);
  const capture = (): string => tmux('capture-pane', '-p', '-t', 'ui');
  return {
    keys: (...keys) => void tmux('send-keys', '-t', 'ui', ...keys),
    type: (text) => void tmux('send-keys', '-t', 'ui', '-l', text),
    capture,
    async shows(text, ms = 30_000, detail = () => '') {
      const texts = typeof text === 'string' ? [text] : text;
      const shown = (): boolean => {
        const pane = capture();
        return texts.some((t) => pane.includes(t));
      };
      for (const end = Date.now() + ms; !shown(); await pause(200)) {
        if (Date.now() > end) throw new Error(`the pane does not show "${texts.join('" or "')}" within ${ms} ms; it shows:\n${capture()}${detail()}`);
      }
    },
    async exitCode(codeFile, ms) {
      const written = (): boolean => fs.existsSync(codeFile) && fs.readFileSync(codeFile, 'utf8').trim() !== '';
      for (const end = Date.now() + ms; !written(); await pause(200)) {
        if (Date.now() > end) throw new Error(`no exit within ${ms} ms; the pane shows:\n${capture()}`);
      }
      return fs.readFileSync(codeFile, 'utf8').trim();
    },
    kill: () => void tmux('kill-server'),
  };
}
