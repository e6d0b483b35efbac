// `parley demo --no-ui` as a newcomer runs it (issue 12): one process with a server, the echo bot
// and the user's client. A message to the bot comes back as "echo: ...", a file is accepted and
// completed, SIGINT ends everything with nothing left running, and a second start on the same
// folder finds the same profiles.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, jsonLines, ok, startScript, tempHome, type Script } from '../helpers/cli.js';
import { until } from '../helpers/client.js';
import { processesNaming } from '../helpers/demo-screens.mjs';

type Started = { dir: string; home: string; id: number; bot_id: number; server: string };

async function startDemo(dir: string | undefined): Promise<{ demo: Script; info: Started }> {
  const demo = startScript(CLI, ['demo', '--no-ui', '--json', ...(dir !== undefined ? ['--home', dir] : [])]);
  const line = await demo.waitForLine((l) => l.startsWith('{'), 60_000);
  return { demo, info: JSON.parse(line) as Started };
}

// Where /proc tells (Linux), the processes whose command line names the demo's folder (the demo
// itself, and any child: demo-screens.mjs) and a process's children; elsewhere none are found.
const hasProc = fs.existsSync('/proc/self/stat');

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  if (!hasProc) return out;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function refused(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port) });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

async function historyOf(home: string, peer: number): Promise<Array<Record<string, unknown>>> {
  return jsonLines((await ok(['history', '--peer', String(peer), '--json'], { home })).stdout);
}

async function stopDemo(demo: Script): Promise<void> {
  demo.child.kill('SIGINT');
  const end = await demo.exited;
  expect(end, demo.stderr()).toEqual({ code: 0, signal: null });
}

describe('demo', () => {
  it('demo - --no-ui: "hi" comes back as "echo: hi", a file is accepted and completed, SIGINT ends every process; started again, the same profiles', async () => {
    const dir = path.join(tempHome('demo'), 'demo');
    const { demo, info } = await startDemo(dir);
    try {
      expect(info).toMatchObject({ dir, home: path.join(dir, 'user') });
      expect(childrenOf(demo.child.pid as number)).toEqual([]);

      await ok(['send', '--to', String(info.bot_id), 'hi'], { home: info.home });
      await until(async () => (await historyOf(info.home, info.bot_id)).some((m) => m.direction === 'in' && m.text === 'echo: hi'), 'the echo of "hi"', 10_000);
      const chat = await historyOf(info.home, info.bot_id);
      expect(chat.map((m) => [m.direction, m.text])).toEqual([['out', 'hi'], ['in', 'echo: hi']]);
      // Each granted the other the demo's packets; the bot's grant came with the first link.
      const [limits] = jsonLines((await ok(['limits', '--json'], { home: info.home })).stdout) as Array<{ peer: number; inbound: { messages: { granted: number } }; outbound: { messages: { granted: number }; files: { granted: number } } }>;
      expect(limits.peer).toBe(info.bot_id);
      expect([limits.inbound.messages.granted, limits.outbound.messages.granted, limits.outbound.files.granted]).toEqual([1_000_000, 1_000_000, 1_000_000]);
      // The bot read it, as opening the chat does.
      await until(async () => (await historyOf(info.home, info.bot_id))[0].status === 'read', 'hi shown read', 10_000);

      const file = path.join(tempHome('demo-file'), 'photo.bin');
      const bytes = crypto.randomBytes(300_000);
      fs.writeFileSync(file, bytes);
      const sent = await ok(['send-file', '--to', String(info.bot_id), '--yes', '--json', file], { home: info.home });
      const tid = (JSON.parse(sent.stdout) as { id: string }).id;
      const botHome = path.join(dir, 'bot');
      const stateOf = async (home: string): Promise<unknown> => jsonLines((await ok(['transfers', '--json'], { home })).stdout).find((t) => t.id === tid)?.state;
      await until(async () => (await stateOf(info.home)) === 'completed' && (await stateOf(botHome)) === 'completed', 'the file completed on both sides', 20_000);
      const received = jsonLines((await ok(['transfers', '--json'], { home: botHome })).stdout).find((t) => t.id === tid) as { path: string };
      expect(fs.readFileSync(received.path).equals(bytes)).toBe(true);
    } finally {
      await stopDemo(demo);
    }
    expect(processesNaming(dir)).toEqual([]);
    expect(await refused(info.server)).toBe(true);

    // Written while the demo is stopped: it waits in the user's profile.
    await ok(['send', '--to', String(info.bot_id), 'while away'], { home: info.home });

    // Again on the same folder: the same ids, the chat still there, the bot answering, the
    // message written meanwhile too.
    const again = await startDemo(dir);
    try {
      expect(again.info).toMatchObject({ id: info.id, bot_id: info.bot_id, home: info.home });
      await until(async () => (await historyOf(info.home, info.bot_id)).some((m) => m.text === 'echo: while away'), 'the echo of "while away"', 10_000);
      expect((await historyOf(info.home, info.bot_id)).map((m) => m.text)).toEqual(['hi', 'echo: hi', 'while away', 'echo: while away']);
      // In the spam folder, the bot's messages still arrive and are stored: only the folder changed.
      await ok(['contacts', 'move', String(info.bot_id), 'spam'], { home: info.home });
      await ok(['send', '--to', String(info.bot_id), 'again'], { home: info.home });
      await until(async () => (await historyOf(info.home, info.bot_id)).some((m) => m.text === 'echo: again'), 'the echo of "again"', 10_000);
      expect(jsonLines((await ok(['contacts', '--json'], { home: info.home })).stdout)).toEqual([expect.objectContaining({ id: info.bot_id, folder: 'spam' })]);
    } finally {
      await stopDemo(again.demo);
    }
    expect(processesNaming(dir)).toEqual([]);
  });

  it('demo - without --home, a new folder in the temp folder, named', async () => {
    const { demo, info } = await startDemo(undefined);
    try {
      expect(path.dirname(info.dir)).toBe(os.tmpdir());
      expect(path.basename(info.dir)).toMatch(/^parley-demo-/);
      expect(fs.existsSync(path.join(info.dir, 'demo.json'))).toBe(true);
    } finally {
      await stopDemo(demo);
      if (info.dir.startsWith(os.tmpdir())) fs.rmSync(info.dir, { recursive: true, force: true });
    }
  });

  it('demo - --console with standard input not a terminal: the console reads it line by line, writing to the bot from the start; "hi" comes back, /quit ends everything', async () => {
    const dir = path.join(tempHome('demo-piped'), 'demo');
    const demo = startScript(CLI, ['demo', '--console', '--home', dir]);
    try {
      await demo.waitForLine((l) => /^Writing to Echo bot \(\d+\)\.$/.test(l), 60_000);
      demo.child.stdin.write('hi\n');
      await demo.waitForLine((l) => /Echo bot \(\d+\): echo: hi$/.test(l), 15_000);
      demo.child.stdin.write('/quit\n');
      expect(await demo.exited).toEqual({ code: 0, signal: null });
      expect(demo.lines.at(-1)).toBe('Nothing is pending. Bye.');
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGKILL');
    }
    await until(async () => processesNaming(dir).length === 0, 'no process of the demo left', 10_000);
  });

  it('demo - --console with piped input that ends without /quit: what it wrote is delivered before the demo stops', async () => {
    const dir = path.join(tempHome('demo-piped-end'), 'demo');
    const demo = startScript(CLI, ['demo', '--console', '--home', dir]);
    try {
      // A script's lines, all at once, before the console is even up: the end of the input comes
      // while the two messages are still on their way.
      demo.child.stdin.end('hi\nПривет\n');
      expect(await demo.exited).toEqual({ code: 0, signal: null });
      expect(demo.lines).toContainEqual(expect.stringMatching(/^Input ended: waiting up to \d+ s for 2 messages to reach contacts who are online\.$/));
      expect(demo.lines.at(-1)).toBe('Nothing is pending. Bye.');
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGKILL');
    }
    await until(async () => processesNaming(dir).length === 0, 'no process of the demo left', 10_000);
    // Delivered (the bot reads them too), in the journal of the profile the demo keeps, in order.
    const home = path.join(dir, 'user');
    const [bot] = jsonLines((await ok(['contacts', '--json'], { home })).stdout);
    const history = jsonLines((await ok(['history', '--peer', String(bot.id), '--json'], { home })).stdout);
    const mine = history.filter((m) => m.direction === 'out');
    expect(mine.map((m) => m.text)).toEqual(['hi', 'Привет']);
    for (const m of mine) expect(['delivered', 'read']).toContain(m.status);
  });

  it('demo - a folder that holds something else is refused with exit 2, and left as it was', async () => {
    const dir = tempHome('not-demo');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const r = startScript(CLI, ['demo', '--no-ui', '--home', dir]);
    expect(await r.exited).toEqual({ code: 2, signal: null });
    expect(r.stderr()).toMatch(/is not empty and holds no demo/);
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
  });
});
