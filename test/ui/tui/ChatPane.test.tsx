import React from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { ChatPane } from '../../../src/ui/tui/ChatPane.js';

describe('ChatPane', () => {
  it('ChatPane - title, presence, the quota line, rows at the bottom on their side', () => {
    const r = render(
      <ChatPane
        title="Bob (7)"
        presence={{ word: 'online', colour: 'green' }}
        quota="Left to send: 997/1000 message packets, 1000/1000 file packets"
        rows={[
          { text: 'hello', align: 'left' },
          { text: 'hi', align: 'right' },
        ]}
        width={80}
        height={8}
        empty={null}
      />,
    );
    const lines = (r.lastFrame() ?? '').split('\n');
    expect(lines).toHaveLength(8);
    expect(lines[1]).toContain('Bob (7)  online');
    expect(lines[2]).toContain('Left to send: 997/1000');
    expect(lines[3].trim()).toBe('│                                                                              │');
    expect(lines[5]).toMatch(/^│hello +│$/);
    expect(lines[6]).toMatch(/^│ +hi│$/);
    r.unmount();
  });

  it('ChatPane - the text for nothing to show', () => {
    const r = render(<ChatPane title="" presence={null} quota={null} rows={[]} width={60} height={6} empty="No chat open" />);
    expect(r.lastFrame()).toContain('No chat open');
    r.unmount();
  });
});
