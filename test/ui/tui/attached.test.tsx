// The UI attached to a real client: `parley up` on a self-signed temp profile, the App over the
// real subscription, pages and intents (attachment.ts). A message typed is sent by the client
// and shown from its event; the language switched in the settings screen comes back from the
// client and every string follows. And `parley` without a terminal says so, exit 2. Every wait
// is for a frame, bounded. start.test.tsx has the screen's start and end.
import React, { act } from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { subscribe } from '../../../src/ui/attachment.js';
import { App } from '../../../src/ui/tui/App.js';
import { connect, createFeed } from '../../../src/ui/tui/client.js';
import { runParley } from '../../helpers/cli.js';
import { selfSignedPerson, stopPerson, type SelfSignedPerson } from '../../helpers/client.js';
import { frameWhere, type Rendered } from './fake.js';

// The profile is made inside the test (tempHome removes it when the test ends).
async function withAnn(work: (ann: SelfSignedPerson) => Promise<void>): Promise<void> {
  const ann = await selfSignedPerson('ann');
  try {
    expect((await runParley(['contacts', 'add', '77', '--name', 'Bob'], { home: ann.home })).code).toBe(0);
    expect((await runParley(['settings', 'set', 'language', 'en'], { home: ann.home })).code).toBe(0);
    await work(ann);
  } finally {
    await stopPerson(ann);
  }
}

describe('tui attached to a running client', () => {
  it('tui - sends a typed message through the client, switches to Russian and back; without a terminal, exit 2', async () => {
    await withAnn(async (ann) => {
      await attachedApp(ann);
      const r = await runParley([], { home: ann.home });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('parley console');
      expect(r.stdout).toBe('');
    });
  });
});

async function attachedApp(ann: SelfSignedPerson): Promise<void> {
  {
    const source = createFeed();
    const subscription = await subscribe(ann.home, source);
    let r!: ReturnType<typeof render>;
    await act(async () => {
      r = render(<App client={connect(ann.home, process.cwd())} feed={source.feed} snapshot={subscription.snapshot} cwd={process.cwd()} terminal={{ write: () => undefined }} size={{ columns: 100, rows: 24 }} onQuit={() => undefined} />);
    });
    const view = { ...r, written: [], quits: [], type: async () => undefined, frame: () => r.lastFrame() ?? '' } as unknown as Rendered;
    const type = async (text: string): Promise<void> => {
      await act(async () => {
        r.stdin.write(text);
      });
    };
    try {
      await frameWhere(view, (f) => f.includes('▶ Bob') && f.includes('Left to send'), 15_000);
      expect(view.frame()).toContain(`You: ann (${ann.id})`);
      await type('hello from the screen');
      await type('\r');
      await frameWhere(view, (f) => f.includes('hello from the screen') && f.includes('sent '), 15_000);
      const history = await runParley(['history', '--peer', '77', '--json'], { home: ann.home });
      expect(history.stdout).toContain('hello from the screen');

      await type('\x1bs');
      await frameWhere(view, (f) => f.includes('Language: English'), 15_000);
      await type('\r');
      await frameWhere(view, (f) => f.includes('Язык: русский') && f.includes(`Вы: ann (${ann.id})`), 15_000);
      await type('\r');
      await frameWhere(view, (f) => f.includes('Language: English'), 15_000);
    } finally {
      await act(async () => {
        r.unmount();
        r.cleanup();
      });
      subscription.close();
    }
  }
}
