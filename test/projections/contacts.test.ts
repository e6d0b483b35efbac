import { describe, expect, it } from 'vitest';
import { contacts } from '../../src/projections/contacts.js';
import { links } from '../../src/projections/links.js';
import { fold, given } from '../helpers/events.js';

describe('contacts', () => {
  it('contacts - added, renamed, moved, blocked', () => {
    const s = fold(contacts, given([
      { type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true },
      { type: 'contact.renamed', peer: 7, name: 'Anna' },
      { type: 'contact.moved', peer: 7, folder: 'spam' },
      { type: 'contact.blocked', peer: 7, blocked: true },
    ]));
    expect(s[7]).toMatchObject({ id: 7, name: 'Anna', folder: 'spam', whitelisted: true, blocked: true });
  });

  it('contacts - blocking someone never added makes a plain entry', () => {
    const s = fold(contacts, given([{ type: 'contact.blocked', peer: 9, blocked: true }]));
    expect(s[9]).toMatchObject({ id: 9, name: '9', folder: 'main', whitelisted: false, blocked: true });
  });

  it('links - opened and closed keep the last route', () => {
    const s = fold(links, given([
      { type: 'link.opened', peer: 7, route: 'punched', address: '203.0.113.5:4000' },
      { type: 'link.closed', peer: 7, reason: 'peer went away' },
    ]));
    expect(s[7]).toMatchObject({ state: 'closed', route: 'punched', reason: 'peer went away' });
  });
});
