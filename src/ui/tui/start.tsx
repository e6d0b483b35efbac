/**
 * The Ink UI on a terminal: attached to the running client, drawn on the alternate screen, and
 * ended the one clean way whatever asks (/quit, Ctrl+C, a signal, the client gone): the frame
 * goes, mouse reporting and the alternate screen are turned off, and what is still pending is
 * said on the normal screen, as the console says it.
 */
import React from 'react';
import { render } from 'ink';
import { subscribe } from '../attachment.js';
import { catalogue } from '../i18n/index.js';
import { LANGUAGES } from '../../projections/settings.js';
import { App, MOUSE_OFF } from './App.js';
import { connect, createFeed } from './client.js';

export type TuiOptions = {
  home: string;
  cwd: string;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  // The client was started for this UI (none ran): said once at the start.
  startedHere?: boolean;
};

export type RunningTui = {
  // Resolves with the exit code once the screen is restored and the pending count said.
  done: Promise<number>;
  // Ends it as /quit does (a signal, a closed window).
  stop: () => void;
};

const ALT_SCREEN_ON = '\x1b[?1049h\x1b[2J\x1b[H';
const ALT_SCREEN_OFF = '\x1b[?1049l';

export async function startTui(options: TuiOptions): Promise<RunningTui> {
  const { home, cwd, stdout } = options;
  const source = createFeed();
  let language = 'en';
  const subscription = await subscribe(home, {
    ...source,
    onSettings(settings) {
      language = String(settings.language);
      source.onSettings(settings);
    },
  });
  language = String(subscription.snapshot.settings.language);
  let quit: (reason: string | null) => void = () => undefined;
  const asked = new Promise<string | null>((resolve) => (quit = resolve));

  stdout.write(ALT_SCREEN_ON);
  // Before ink's own listener: the screen is cleared, then ink draws the frame at the new size.
  // Without it a resize leaves broken copies of the frame above it (DESIGN.md).
  const onResize = (): void => void stdout.write('\x1b[2J\x1b[H');
  stdout.on('resize', onResize);
  const instance = render(
    <App client={connect(home, cwd)} feed={source.feed} snapshot={subscription.snapshot} cwd={cwd} terminal={{ write: (text) => void stdout.write(text) }} onQuit={(reason) => quit(reason)} startedHere={options.startedHere} />,
    { stdin: options.stdin, stdout, exitOnCtrlC: false, patchConsole: false },
  );

  const done = (async (): Promise<number> => {
    const reason = await asked;
    instance.unmount();
    await instance.waitUntilExit().catch(() => undefined);
    stdout.off('resize', onResize);
    stdout.write(MOUSE_OFF + ALT_SCREEN_OFF);
    const t = catalogue(LANGUAGES.find((l) => l === language) ?? 'en');
    if (reason !== null) {
      stdout.write(t.clientGone + '\n');
    } else {
      try {
        const p = await connect(home, cwd).pending();
        stdout.write(t.bye(p.messages, p.transfers) + '\n');
      } catch {
        stdout.write(t.byeUnknown + '\n');
      }
    }
    subscription.close();
    return reason === null ? 0 : 1;
  })();

  return { done, stop: () => quit(null) };
}
