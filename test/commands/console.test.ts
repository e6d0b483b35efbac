// `parley console` as a person (or a script) uses it, against a real server and two real clients
// on loopback: attached to a running client it prints what comes on lines of its own, even while
// a line is half typed, sends what is typed, errs on a bad id and goes on, speaks Russian and
// back, and ends saying what is pending; with no client running it starts one in-process and
// stops it at the end. Standard input is a pipe here: the console reads it line by line. Every
// wait is for a line the console prints, bounded.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../cert/helpers.js';
import { CLI, jsonLines, ROOT, runParley, startScript, tempHome, type Script } from '../helpers/cli.js';
import { clientInitArgs, personAt, serverAt, stopPerson, until, withPair, type Person } from '../helpers/client.js';
import { cleanup, makeServerPki, type TestPki } from '../server/helpers.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob']);
});
afterAll(() => cleanup(pki?.dir));

// The console in English whatever the machine's locale, unless a test says otherwise.
const ENGLISH = { LANG: 'C.UTF-8', LC_ALL: undefined, LC_MESSAGES: undefined };

function openConsole(home: string, extra: string[] = [], env: Record<string, string | undefined> = ENGLISH): Script {
  return startScript(CLI, ['console', '--home', home, ...extra], { env });
}

async function historyTexts(p: Person, peer: number): Promise<string[]> {
  const r = await runParley(['history', '--peer', String(peer), '--json'], { home: p.home });
  return r.code === 0 ? jsonLines(r.stdout).map((m) => m.text as string) : [];
}

describe('console - attached to a running client', () => {
  it('console - prints a message that comes while a line is half typed on a line of its own, sends the line, errs on bad ids and goes on, speaks Russian and back, and /quit says what is pending', async () => {
    const port = await freePort();
    await serverAt(pki, port, async () => {
      const a = await personAt(pki, 'alice', port);
      const b = await personAt(pki, 'bob', port);
      let c: Script | null = null;
      try {
        expect((await runParley(['contacts', 'add', String(b.id), '--name', 'Bob'], { home: a.home })).code).toBe(0);
        expect((await runParley(['contacts', 'add', String(a.id), '--name', 'Alice'], { home: b.home })).code).toBe(0);
        const console = openConsole(a.home);
        c = console;
        const type = (text: string): void => void console.child.stdin.write(text);
        await console.waitForLine((l) => l.startsWith('Parley console: you are'));
        // Bob is Alice's only contact: the console starts writing to him.
        await console.waitForLine((l) => l === `Writing to Bob (${b.id}).`);

        // Bad ids, an unknown command: one line each, then on.
        type('/to seven\n');
        await console.waitForLine((l) => l === '"seven" is not an id: ids are whole numbers from 1 to 1099511627775.');
        type('/to 5\n');
        await console.waitForLine((l) => l.startsWith('5 is not one of your contacts'));
        type('/frobnicate now\n');
        await console.waitForLine((l) => l === 'Unknown command /frobnicate: /help lists them.');
        type(`/to ${b.id}\n`);
        await console.waitForCount((l) => l === `Writing to Bob (${b.id}).`, 2);

        // Half a line typed; Bob's message comes meanwhile and is printed whole on its own line.
        type('hel');
        expect((await runParley(['send', '--to', String(a.id), 'ping from Bob'], { home: b.home })).code).toBe(0);
        await console.waitForLine((l) => /^\[\d\d:\d\d\] Bob \(\d+\): ping from Bob$/.test(l), 30_000);
        type('lo Bob\n');
        await console.waitForLine((l) => /^\[\d\d:\d\d\] you → Bob \(\d+\): hello Bob$/.test(l));
        await until(async () => (await historyTexts(b, a.id)).includes('hello Bob'), 'Bob has "hello Bob"', 30_000);

        type('/lang ru\n');
        await console.waitForLine((l) => l === 'Консоль теперь говорит по-русски.');
        type('/contacts\n');
        await console.waitForLine((l) => l.startsWith(`${b.id}  Bob  в сети`));
        type('/to x\n');
        await console.waitForLine((l) => l.startsWith('«x» — не id'));
        expect(jsonLines((await runParley(['settings', '--json'], { home: a.home })).stdout)[0].language).toBe('ru');
        type('/lang en\n');
        await console.waitForLine((l) => l === 'The console speaks English now.');

        // Bob goes away: what Alice writes now waits, and /quit says so.
        await stopPerson(b);
        await console.waitForLine((l) => l === `Bob (${b.id}) went offline.`, 30_000);
        type('are you there?\n');
        await console.waitForLine((l) => /you → Bob \(\d+\): are you there\?$/.test(l));
        type('/quit\n');
        const end = await console.exited;
        expect(end.code, console.stderr()).toBe(0);
        expect(console.lines).toContain('Still pending: 1 message and 0 transfers; they go when the client is next up. Bye.');
        // The client it attached to runs on.
        expect(a.up?.child.exitCode).toBeNull();
      } finally {
        c?.child.kill('SIGKILL');
        await stopPerson(a);
        await stopPerson(b);
      }
    });
  });
});

describe('console - with no client running', () => {
  it('console - starts the client in this process, says so, and stops it at the end of input (Ctrl+D): exit 0, nothing pending, the profile free again', async () => {
    const home = tempHome('console-own');
    expect((await runParley(clientInitArgs(pki, 'alice', '127.0.0.1:1', ['--name', 'Alice']), { home })).code).toBe(0);
    const console = openConsole(home, ['--password-file', pki.ours.passwordFile]);
    // Typed before the console is up: read once it is, not lost.
    console.child.stdin.write('/contacts\n');
    await console.waitForLine((l) => l === 'Parley console: you are Alice. /help lists the commands; /quit ends.');
    await console.waitForLine((l) => l.startsWith('No client was running on this profile'));
    await console.waitForLine((l) => l === 'No contacts yet: parley contacts add ID --name NAME');
    // Its commands reach the client it started, over the same socket as any other.
    const status = await runParley(['status', '--json'], { home });
    expect(JSON.parse(status.stdout)).toMatchObject({ name: 'Alice', server: 'offline' });
    // No contact at all: text has nobody to go to, and the console says how to choose one.
    console.child.stdin.end('anybody there?\n/help\n');
    expect((await console.exited).code, console.stderr()).toBe(0);
    expect(console.lines).toContain('Choose whom to write to first: /to ID.');
    expect(console.lines).toContain('/quit                end (Ctrl+C and Ctrl+D too)');
    expect(console.lines[console.lines.length - 1]).toBe('Nothing is pending. Bye.');
    // Stopped with the console: the next command opens the profile itself.
    expect((await runParley(['contacts', 'add', '77', '--name', 'Bob'], { home })).code).toBe(0);
  });

  it('console - piped input that ends (a script, no /quit) with its contact online: the client started here delivers it before it stops', async () => {
    await withPair(pki, async ({ a, b }) => {
      // Alice's client is not running: the console starts one, reads the script's line and its
      // end at once, and stops the client only once Bob has the message.
      await stopPerson(a);
      const console = openConsole(a.home, ['--password-file', pki.ours.passwordFile]);
      console.child.stdin.end('from a script\n');
      expect((await console.exited).code, console.stderr()).toBe(0);
      expect(console.lines).toContain('No client was running on this profile: it runs in this console until /quit.');
      // The bye, then the started client's own notes as it stops.
      expect(console.lines, console.lines.join('\n')).toContain('Nothing is pending. Bye.');
      expect(await historyTexts(b, a.id)).toEqual(['from a script']);
    });
  });

  it('console - piped input that ends with its contact offline: it ends without waiting for delivery, saying the message is pending', async () => {
    const home = tempHome('console-piped-offline');
    expect((await runParley(clientInitArgs(pki, 'alice', '127.0.0.1:1'), { home })).code).toBe(0);
    expect((await runParley(['contacts', 'add', '77', '--name', 'Bob'], { home })).code).toBe(0);
    const console = openConsole(home, ['--password-file', pki.ours.passwordFile]);
    console.child.stdin.end('hi\n');
    expect((await console.exited).code, console.stderr()).toBe(0);
    expect(console.lines.some((l) => l.startsWith('Input ended'))).toBe(false);
    expect(console.lines[console.lines.length - 1]).toBe('Still pending: 1 message and 0 transfers; they go when the client is next up. Bye.');
  });

  it('console - a message over one packet is asked about (no: not sent; y: sent); /send-file offers, /transfers cancels, /history pages, a refused command says why', async () => {
    const home = tempHome('console-spend');
    expect((await runParley(clientInitArgs(pki, 'alice', '127.0.0.1:1'), { home })).code).toBe(0);
    expect((await runParley(['contacts', 'add', '77', '--name', 'Bob'], { home })).code).toBe(0);
    const file = path.join(home, 'notes.txt');
    fs.writeFileSync(file, 'hello');
    const console = openConsole(home, ['--password-file', pki.ours.passwordFile]);
    const type = (text: string): void => void console.child.stdin.write(text);
    type('/to 77\n');
    await console.waitForLine((l) => l === 'Writing to Bob (77).');
    const long = 'x'.repeat(70_000);
    type(long + '\n');
    await console.waitForLine((l) => l === 'This message takes 2 packets of your limit with Bob (77). Send it? [y/N]');
    type('n\n');
    await console.waitForLine((l) => l === 'Not sent.');
    type(long + '\ny\n');
    await console.waitForLine((l) => /^\[\d\d:\d\d\] you → Bob \(77\): x+$/.test(l) && l.endsWith(long));
    // A relative path is taken from where the console runs (the repository, here).
    type(`/send-file ${path.relative(ROOT, file)}\n`);
    const offered = await console.waitForLine((l) => l.startsWith('File notes.txt (5 B) offered to Bob (77): transfer '));
    const tid = /transfer (\S+)\.$/.exec(offered)?.[1] as string;
    type(`/transfers cancel ${tid}\n`);
    await console.waitForLine((l) => l === 'notes.txt: cancelled.');
    type('/transfers cancel nosuch\n');
    await console.waitForLine((l) => l.startsWith('Failed: ') && l.includes('nosuch'));
    type('/requests accept 12\n');
    await console.waitForLine((l) => l === 'Failed: 12 has not asked to talk to you (parley requests lists who has)');
    type('/history 1\n');
    await console.waitForLine((l) => l.endsWith(`you → Bob (77): ${long} (pending)`));
    type('/quit\n');
    expect((await console.exited).code, console.stderr()).toBe(0);
    expect(console.lines[console.lines.length - 1]).toBe('Still pending: 1 message and 0 transfers; they go when the client is next up. Bye.');
    expect(console.lines.filter((l) => l.includes('you → Bob'))).toHaveLength(2);
  });

  it.each(['SIGTERM', 'SIGHUP', 'SIGINT'] as const)('console - %s ends it the same clean way: what is pending said, exit 0', async (signal) => {
    const home = tempHome('console-signal');
    expect((await runParley(clientInitArgs(pki, 'alice', '127.0.0.1:1'), { home })).code).toBe(0);
    expect((await runParley(['contacts', 'add', '77', '--name', 'Bob'], { home })).code).toBe(0);
    expect((await runParley(['send', '--to', '77', 'hi'], { home })).code).toBe(0);
    const console = openConsole(home, ['--password-file', pki.ours.passwordFile], { ...ENGLISH, LANG: 'ru_RU.UTF-8' });
    await console.waitForLine((l) => l.startsWith('Консоль Parley'));
    console.child.kill(signal);
    expect((await console.exited).code, console.stderr()).toBe(0);
    expect(console.lines[console.lines.length - 1]).toBe('Ещё не отправлено: 1 сообщение и 0 передач; уйдут, когда клиент снова запустится. До свидания.');
  });
});
