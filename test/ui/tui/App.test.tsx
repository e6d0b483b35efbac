// The whole screen on a fake client: what it shows at the start, what keys do, how events
// change it in place.
import { afterEach, describe, expect, it } from 'vitest';
import { fakeClient, frameWhere, message, renderApp, unmount, type Rendered } from './fake.js';

let r: Rendered | null = null;
afterEach(async () => {
  if (r) await unmount(r);
  r = null;
});

describe('App', () => {
  it('App - opens the first contact, shows own id, presence words, the quota line and the messages', async () => {
    const fake = fakeClient({ chats: { 7: [message(1, 7, 'hello Ann'), message(2, 7, 'hi Bob', { direction: 'out', status: 'delivered' })] } });
    r = await renderApp(fake);
    const frame = await frameWhere(r, (f) => f.includes('hi Bob') && f.includes('Left to send'));
    expect(frame).toContain('You: Ann (42)');
    expect(frame).toContain('online');
    expect(frame).toContain('offline');
    expect(frame).toContain('refused');
    expect(frame).toContain('997/1000');
    expect(frame).toContain('✓✓ delivered');
  });
});
