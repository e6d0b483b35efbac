// Shared by the command and end-to-end tests: run the built `parley` as a person would, make and
// remove a temporary profile, run other programs (Python, Node scripts) and wait for what they
// print, always with a bound, never with a sleep.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished } from 'vitest';
import type { NewEvent } from '../../src/events/types.js';
import { KEYRING_FILE } from '../../src/node/keyring.js';
import { openProfile } from '../../src/node/profile.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
export const PYTHON = '/usr/bin/python3';

export type RunResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export type RunOptions = {
  // Appended as `--home DIR` (every leaf command takes it).
  home?: string;
  // Added to the child's environment; undefined removes a variable. PARLEY_HOME is removed
  // unless given here, so the caller's own profile never leaks into a test.
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
};

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PARLEY_HOME;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

// Runs `node dist/src/cli.js ARGS` and resolves with its exit code and output. A child that is
// still running after timeoutMs is killed and the promise rejects with what it printed.
export function runParley(args: string[], options: RunOptions = {}): Promise<RunResult> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p .\` first (npm test does)`);
  const argv = options.home === undefined ? args : [...args, '--home', options.home];
  return runProgram(process.execPath, [CLI, ...argv], { env: options.env, input: options.input, timeoutMs: options.timeoutMs, what: `parley ${argv.join(' ')}` });
}

export function runProgram(
  file: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number; what?: string } = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const what = options.what ?? `${file} ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} still running after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // a child that exits before reading its input
    child.stdin.end(options.input ?? '');
  });
}

// A fresh folder under os.tmpdir(), removed when the current test ends (call it inside a test).
export function tempHome(prefix = 'home'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `parley-${prefix}-`));
  if (!process.env.KEEP_HOMES) onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

export function jsonLines(text: string): Record<string, unknown>[] {
  return lines(text).map((l) => JSON.parse(l) as Record<string, unknown>);
}

// Runs a Python program given as text, with the system's interpreter.
export function runPython(code: string, args: string[] = [], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return runProgram(PYTHON, ['-c', code, ...args], { ...options, env: { PYTHONIOENCODING: 'utf-8' }, what: 'python3' });
}

// A long-running child (a Node script) whose stdout is read line by line.
export type Script = {
  child: ChildProcessWithoutNullStreams;
  lines: string[]; // every stdout line so far
  stderr: () => string;
  // Resolves with the first line (already seen or to come) that matches; rejects after
  // timeoutMs or when the child exits first.
  waitForLine: (match: (line: string) => boolean, timeoutMs?: number) => Promise<string>;
  // Resolves when `count` lines matching have been seen.
  waitForCount: (match: (line: string) => boolean, count: number, timeoutMs?: number) => Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

export function startScript(script: string, args: string[], options: { env?: Record<string, string | undefined> } = {}): Script {
  const child = spawn(process.execPath, [script, ...args], { env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT });
  const seen: string[] = [];
  let err = '';
  let partial = '';
  let done: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  // A script that ended before a test's write to it: the test's own waits say so, not an EPIPE.
  child.stdin.on('error', () => undefined);
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop() as string;
    for (const p of parts) if (p.length > 0) seen.push(p);
    wake();
  });
  child.stderr.on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      done = { code, signal };
      resolve(done);
      wake();
    });
  });

  function waitUntil(check: () => boolean, describe: () => string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const poll = () => {
        if (check()) {
          finish();
          resolve();
        } else if (done) {
          finish();
          reject(new Error(`${describe()}: the child exited first (${JSON.stringify(done)})\nstderr: ${err}\nlast lines: ${seen.slice(-5).join(' | ')}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${describe()}: not seen within ${timeoutMs} ms\nstderr: ${err}\nlast lines: ${seen.slice(-5).join(' | ')}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(poll);
      };
      waiters.add(poll);
      poll();
    });
  }

  return {
    child,
    lines: seen,
    stderr: () => err,
    waitForLine: async (match, timeoutMs = 20_000) => {
      let found: string | undefined;
      await waitUntil(
        () => (found = seen.find(match)) !== undefined,
        () => 'a matching line',
        timeoutMs,
      );
      return found as string;
    },
    waitForCount: (match, count, timeoutMs = 30_000) => {
      let n = 0;
      let scanned = 0;
      return waitUntil(
        () => {
          for (; scanned < seen.length; scanned++) if (match(seen[scanned])) n++;
          return n >= count;
        },
        () => `${count} matching lines (saw ${n})`,
        timeoutMs,
      );
    },
    exited,
  };
}

// Every file under dir, recursively.
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

// The files under dir whose raw bytes contain text (UTF-8).
export function filesContaining(dir: string, text: string): string[] {
  const needle = Buffer.from(text, 'utf8');
  return filesUnder(dir).filter((f) => fs.readFileSync(f).includes(needle));
}

// A usage error as a person meets it: exit 2, nothing on stdout, one line on stderr, no stack.
export function expectRefused(r: RunResult): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr)).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

// Runs parley and expects exit 0, naming the command and its stderr when it fails.
export async function ok(args: string[], options: Parameters<typeof runParley>[1]): Promise<RunResult> {
  const r = await runParley(args, options);
  expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

// The keys (base64) that seal a chat's texts, as the profile's keys.json holds them now.
export function chatKeysOf(home: string, peer: number): string[] {
  const file = path.join(home, KEYRING_FILE);
  if (!fs.existsSync(file)) return [];
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { chats: Record<string, Array<{ key: string }>> };
  return (data.chats[peer] ?? []).map((k) => k.key);
}

// Events written straight into a profile, as another Parley (or the client, for what no command
// writes yet) could have written them.
export async function appendEvents(home: string, events: NewEvent[]): Promise<void> {
  const profile = await openProfile(home);
  try {
    await profile.appendMany(structuredClone(events));
  } finally {
    await profile.close();
  }
}
