// The echo bot of `parley demo` (node/demo.ts): a client in the demo's process whose profile
// answers every message it receives with "echo: " and the text, and marks it read, so a newcomer
// sees a message go, come back, and its marks change. Files are accepted by the client itself:
// the bot's profile has auto-accept-files on (BOT_SETTINGS), which takes every offer of a
// whitelisted contact within the file packets granted it (node/files.ts).
//
// The answers are commands (`send`, `read`) run inside the bot's client as any command sent to
// it runs, so they pass the same checks and spend the same quotas as a person's.
import { Writable } from 'node:stream';
import { MAX_TEXT_BYTES } from '../net/chat.js';
import type { NewOf } from '../events/schema.js';
import type { SettingsChanged } from '../events/types.js';
import type { RunCommand } from './control.js';
import type { Profile } from './profile.js';

export const ECHO_PREFIX = 'echo: ';

// Journaled in the bot's profile when the demo makes it.
export const BOT_SETTINGS: Array<NewOf<SettingsChanged>> = [{ type: 'settings.changed', key: 'auto-accept-files', value: true }];

export type EchoBot = {
  // Stops answering; resolves when the answers under way are written.
  stop: () => Promise<void>;
};

// The answer to `text`: the prefix and the text, cut to what one message may hold. => 'echo: hi'
export function echoOf(text: string): string {
  const answer = ECHO_PREFIX + text;
  if (Buffer.byteLength(answer) <= MAX_TEXT_BYTES) return answer;
  // Cut on bytes, a few short of the limit: a character cut in two decodes as U+FFFD (3 bytes).
  return Buffer.from(answer).subarray(0, MAX_TEXT_BYTES - 4).toString('utf8');
}

export function startEchoBot(options: { profile: Profile; run: RunCommand; log?: (line: string) => void }): EchoBot {
  const { profile, run } = options;
  const log = options.log ?? (() => undefined);
  // What a command prints goes nowhere; a failure is named through `log` with its stderr.
  const sink = (into: string[]): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        into.push(chunk.toString('utf8'));
        done();
      },
    });
  async function command(argv: string[]): Promise<void> {
    const err: string[] = [];
    const code = await run(argv, { stdout: sink([]), stderr: sink(err), cwd: profile.home });
    if (code !== 0) log(`parley demo: the bot's ${argv[0]} ended with ${code}: ${err.join('').trim()}`);
  }

  // One chain: the answers go in the order the messages came. Never rejects.
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;
  const unsubscribe = profile.subscribe((event) => {
    if (stopped || event.type !== 'message.received') return;
    const { peer, text } = event;
    chain = chain
      .then(async () => {
        if (stopped) return;
        await command(['send', '--to', String(peer), '--yes', '--', echoOf(text)]);
        await command(['read', '--peer', String(peer)]);
      })
      .catch((err: Error) => log(`parley demo: the bot could not answer ${peer}: ${err.message}`));
  });

  return {
    async stop() {
      stopped = true;
      unsubscribe();
      await chain;
    },
  };
}
