// The Linux single executable (scripts/package/build.mjs, issue 15) as a user meets it: the
// tarball unpacked into an empty folder and run from there with no Node on the PATH. The package
// is built first when it is missing or older than the code it holds (about 25 s here); `.ci/run`
// builds it before `npm test`, so there the test only unpacks and runs it.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtPackage, CHAT_OPEN } from '../helpers/package.js';
import { openPane } from '../helpers/tmux.js';

type Run = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

// Each run of the executable is a process start (0.5-1 s, more under load): over 60 s in all.
describe('package linux', { timeout: 120_000 }, () => {
  let dir: string; // the unpacked package and the profiles it makes, removed at the end
  let exe: string;
  let emptyPath: string;

  // The user's environment, minus Node: PATH is an empty folder, and no variable of this run
  // (PARLEY_HOME, NODE_OPTIONS) reaches the executable.
  function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { PATH: emptyPath, HOME: dir, LANG: 'C.UTF-8', TMPDIR: os.tmpdir(), ...extra };
  }

  function start(args: string[], extra: Record<string, string> = {}) {
    return spawn(exe, args, { cwd: path.dirname(exe), env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  }

  function parley(args: string[], extra: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = start(args, extra);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }

  async function ok(args: string[], extra: Record<string, string> = {}): Promise<string> {
    const r = await parley(args, extra);
    expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  }

  beforeAll(() => {
    const tarball = builtPackage('linux');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-package-'));
    emptyPath = path.join(dir, 'no-node');
    fs.mkdirSync(emptyPath);
    execFileSync('tar', ['-xzf', tarball, '-C', dir]);
    exe = path.join(dir, 'parley-linux-x64', 'parley');
  }, 180_000);
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('package linux - the tarball holds the executable and classic-level.node, and nothing else', () => {
    expect(fs.readdirSync(path.join(dir, 'parley-linux-x64')).sort()).toEqual(['classic-level.node', 'parley']);
    expect(fs.statSync(exe).mode & 0o111).toBe(0o111);
  });

  it('package linux - --help and --version, with no node on the PATH', async () => {
    const help = await parley(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: parley \[options\] \[command\]/);
    for (const command of ['init', 'contacts', 'cert', 'server', 'demo', 'console']) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect((await ok(['--version'])).trim()).toBe('0.1.0');
    // A word that is no command: one line, exit 2, no stack (the bundle keeps cli.ts's errors).
    const bad = await parley(['frobnicate']);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toBe("error: unknown command 'frobnicate'\n");
  });

  it('package linux - init and a Cyrillic contact, read back as JSON (LevelDB through classic-level.node)', async () => {
    const home = path.join(dir, 'alice');
    const init = await ok(['init', '--name', 'Алиса', '--home', home], { PARLEY_KEY_PASSWORD: 'пароль Алисы' });
    expect(init).toMatch(/[0-9a-f]{64}/);
    expect(await ok(['contacts', 'add', '42', '--name', 'Борис Петров', '--home', home])).toBe('added contact 42 (Борис Петров)\n');
    expect((await ok(['contacts', '--json', '--home', home])).trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { id: 42, name: 'Борис Петров', folder: 'main', whitelisted: true, blocked: false },
    ]);
  });

  it('package linux - the certificate chain: a CA, a server and a client certificate, verified, and a profile for that server', async () => {
    const pki = path.join(dir, 'pki');
    fs.mkdirSync(pki);
    const caPw = path.join(pki, 'ca.pw');
    const keyPw = path.join(pki, 'key.pw');
    fs.writeFileSync(caPw, 'пароль CA\n');
    fs.writeFileSync(keyPw, 'the key password\n');
    await ok(['cert', 'ca', '--dir', path.join(pki, 'CA'), '--password-file', caPw, '--name', 'Оператор CA']);
    await ok(['cert', 'csr', '--dir', path.join(pki, 'server'), '--name', 'rendezvous', '--password-file', keyPw]);
    await ok(['cert', 'csr', '--dir', path.join(pki, 'boris'), '--name', 'boris', '--password-file', keyPw]);
    expect(fs.readdirSync(path.join(pki, 'CA')).sort()).toEqual(['rootCA.crt', 'rootCA.key']);
    const server = await ok(['cert', 'sign', '--ca-dir', path.join(pki, 'CA'), '--csr', path.join(pki, 'server', 'domain.csr'), '--role', 'server', '--out', path.join(pki, 'server', 'domain.crt'), '--host', '127.0.0.1', '--password-file', caPw]);
    expect(server).toContain('role               server');
    const client = JSON.parse(await ok(['cert', 'sign', '--ca-dir', path.join(pki, 'CA'), '--csr', path.join(pki, 'boris', 'domain.csr'), '--role', 'client', '--out', path.join(pki, 'boris', 'client.crt'), '--json', '--password-file', caPw]));
    expect(client).toMatchObject({ role: 'client', subject: 'CN=boris', issuer: 'CN=Оператор CA' });
    const ca = path.join(pki, 'CA', 'rootCA.crt');
    await ok(['cert', 'verify', path.join(pki, 'boris', 'client.crt'), '--ca', ca, '--role', 'client']);
    const wrongRole = await parley(['cert', 'verify', path.join(pki, 'boris', 'client.crt'), '--ca', ca, '--role', 'server']);
    expect(wrongRole.code).toBe(2);
    expect(wrongRole.stderr).toMatch(/^parley: [^\n]*server expected[^\n]*\n$/);
    const shown = JSON.parse(await ok(['cert', 'show', path.join(pki, 'boris', 'client.crt'), '--json']));
    expect(shown).toMatchObject({ role: 'client', fingerprint_sha256: client.fingerprint_sha256, key_sha256: client.key_sha256 });
    // The profile for the operator's server takes the chain in: checked and copied.
    const home = path.join(dir, 'boris');
    await ok(['init', '--server', '127.0.0.1:1', '--ca', ca, '--cert', path.join(pki, 'boris', 'client.crt'), '--key', path.join(pki, 'boris', 'domain.key'), '--password-file', keyPw, '--name', 'Борис', '--home', home]);
    const status = JSON.parse(await ok(['status', '--json', '--home', home]));
    expect(status).toMatchObject({ name: 'Борис' });
  });

  it('package linux - demo --no-ui: the bot answers "echo: ..." and SIGINT ends it with exit 0', async () => {
    const demoDir = path.join(dir, 'demo');
    const demo = start(['demo', '--no-ui', '--json', '--home', demoDir]);
    let out = '';
    let err = '';
    demo.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    demo.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const firstLine = new Promise<string>((resolve, reject) => {
      demo.stdout.on('data', () => out.includes('\n') && resolve(out.split('\n')[0]));
      demo.on('close', () => reject(new Error(`the demo ended before its first line: ${err}`)));
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => demo.on('close', (code, signal) => resolve({ code, signal })));
    try {
      const info = JSON.parse(await firstLine) as { home: string; bot_id: number };
      expect(info.home).toBe(path.join(demoDir, 'user'));
      await ok(['send', '--to', String(info.bot_id), 'привет из пакета', '--home', info.home]);
      const chat = async () => (await ok(['history', '--peer', String(info.bot_id), '--json', '--home', info.home])).trim().split('\n').map((l) => JSON.parse(l) as { direction: string; text: string });
      // Each look is a run of the executable (about 0.5 s): no sleep needed between them.
      for (const end = Date.now() + 15_000; !(await chat()).some((m) => m.direction === 'in'); ) {
        if (Date.now() > end) throw new Error(`no echo within 15 s: ${err}`);
      }
      expect((await chat()).map((m) => [m.direction, m.text])).toEqual([['out', 'привет из пакета'], ['in', 'echo: привет из пакета']]);
    } finally {
      demo.kill('SIGINT');
    }
    expect(await exited, err).toEqual({ code: 0, signal: null });
    expect(err).toMatch(/stopping \(SIGINT\)/);
  });

  it('package linux - the screen: parley demo in a terminal (tmux), a Cyrillic line echoed, Ctrl+C ends it with exit 0', async () => {
    // tmux on a socket of its own, CI unset (ink draws nothing until exit when CI is set).
    const socket = `parley-package-${process.pid}`;
    const code = path.join(dir, 'screen-exit-code');
    const command = `trap '' HUP; env -i PATH='${emptyPath}' HOME='${dir}' LANG=C.UTF-8 TERM=xterm-256color '${exe}' demo --home '${path.join(dir, 'screen')}' 2>/dev/null; echo $? > '${code}'; sleep 30`;
    const pane = openPane(socket, command);
    try {
      // The chat with the bot is open: empty, or showing the notice of its link when that came
      // after the screen (either, by timing).
      await pane.shows(CHAT_OPEN, 60_000);
      pane.type('привет с экрана');
      pane.keys('Enter');
      await pane.shows('echo: привет с экрана');
      pane.keys('C-c');
      expect(await pane.exitCode(code, 20_000)).toBe('0');
    } finally {
      pane.kill();
    }
  });
});
