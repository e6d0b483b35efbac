// parley send, for a message longer than one packet: a person at a terminal is asked (y/N), a
// script without --yes gets exit 5, and the question is asked in the caller's process whether
// the profile is open here or a running client holds it. `script` gives the command a real
// pseudo-terminal; the answer is typed ahead on its standard input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isYes } from '../../src/commands/confirm.js';
import { CLI, jsonLines, ok, runParley, runProgram, tempHome } from '../helpers/cli.js';
import { clientInitArgs, startUp } from '../helpers/client.js';
import { cleanup, makeServerPki, type TestPki } from '../server/helpers.js';

// Two packets of 65,535 bytes; short enough to be one argument.
const LONG = 'a'.repeat(70_000);
const QUESTION = 'This message takes 2 packets of your limit with 77. Send it? [y/N] ';
const REFUSAL = 'parley: this message takes 2 packets of your limit with 77: add --yes to send it';

// `parley send` on a terminal, with `answer` typed.
function sendOnTerminal(home: string, answer: string, text = LONG) {
  const command = `${process.execPath} ${CLI} send --to 77 --json --home ${home} ${text}`;
  return runProgram('/usr/bin/script', ['-qec', command, '/dev/null'], { input: answer, timeoutMs: 60_000 });
}

async function sentEvents(home: string): Promise<Array<Record<string, unknown>>> {
  return jsonLines((await ok(['journal', 'inspect', '--type', 'message.sent', '--json'], { home })).stdout);
}

async function profileWithBob(): Promise<string> {
  const home = tempHome('send-confirm');
  await ok(['contacts', 'add', '77', '--name', 'Bob'], { home });
  return home;
}

describe('send - a message of several packets', () => {
  it.each([
    ['y', true],
    ['yes', true],
    ['Y', true],
    [' YES ', true],
    ['д', true],
    ['да', true],
    ['Да', true],
    ['', false],
    ['n', false],
    ['no', false],
    ['нет', false],
    ['yess', false],
    ['y es', false],
  ])('send - the answer "%s" is yes: %s', (answer, yes) => {
    expect(isYes(answer)).toBe(yes);
  });

  it('send - on a terminal: asked; y sends it (2 packets journaled), n exits 5 with nothing journaled', async () => {
    const home = await profileWithBob();
    const refused = await sendOnTerminal(home, 'n\n');
    expect(refused.code, refused.stdout).toBe(5);
    expect(refused.stdout).toContain(QUESTION);
    expect(refused.stdout).toContain(REFUSAL);
    expect(await sentEvents(home)).toEqual([]);

    const sent = await sendOnTerminal(home, 'да\n');
    expect(sent.code, sent.stdout).toBe(0);
    expect(sent.stdout).toContain(QUESTION);
    const id = /\{"id":"([0-9a-f]+)","status":"pending"\}/.exec(sent.stdout)?.[1];
    expect(id).toBeDefined();
    expect(await sentEvents(home)).toEqual([expect.objectContaining({ id, peer: 77, text: LONG, packets: 2 })]);
  });

  it('send - a message of one packet is not asked about on a terminal', async () => {
    const home = await profileWithBob();
    const sent = await sendOnTerminal(home, '', 'short');
    expect(sent.code, sent.stdout).toBe(0);
    expect(sent.stdout).not.toContain('Send it?');
    expect(await sentEvents(home)).toHaveLength(1);
  });

  it('send - without a terminal: exit 5 and the same message, nothing journaled; --yes sends it', async () => {
    const home = await profileWithBob();
    const refused = await runParley(['send', '--to', '77', LONG], { home, input: 'y\n' });
    expect(refused.code).toBe(5);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim()).toBe(REFUSAL);
    expect(await sentEvents(home)).toEqual([]);
    // A text from standard input on a terminal: the terminal is not asked either.
    const piped = await runProgram('/usr/bin/script', ['-qec', `printf '%s' ${LONG} | ${process.execPath} ${CLI} send --to 77 --home ${home} -`, '/dev/null'], { input: 'y\n' });
    expect(piped.code, piped.stdout).toBe(5);
    expect(piped.stdout).not.toContain('Send it?');
    expect(await sentEvents(home)).toEqual([]);
    await ok(['send', '--to', '77', '--yes', LONG], { home });
    expect(await sentEvents(home)).toHaveLength(1);
  });
});

describe('send - a message of several packets to a running client', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makeServerPki(['alice']);
  });
  afterAll(() => cleanup(pki?.dir));

  it('send - the caller\'s terminal is asked, not the client\'s: y goes to the client as --yes and is journaled there; n exits 5', async () => {
    const home = tempHome('send-confirm-up');
    await ok(clientInitArgs(pki, 'alice', '127.0.0.1:1'), { home });
    const u = startUp(pki, home);
    try {
      await u.waitFor('Ctrl+C stops it');
      await ok(['contacts', 'add', '77', '--name', 'Bob'], { home });
      const refused = await sendOnTerminal(home, 'n\n');
      expect(refused.code, refused.stdout).toBe(5);
      expect(refused.stdout).toContain(REFUSAL);
      const sent = await sendOnTerminal(home, 'y\n');
      expect(sent.code, sent.stdout).toBe(0);
      expect(sent.stdout).toContain(QUESTION);
      expect(sent.stdout).toMatch(/"status":"pending"/);
      expect(await sentEvents(home)).toEqual([expect.objectContaining({ peer: 77, text: LONG, packets: 2 })]);
      expect(u.stderr()).not.toContain('Send it?');
    } finally {
      u.child.kill('SIGTERM');
      await u.exited;
    }
  });
});
