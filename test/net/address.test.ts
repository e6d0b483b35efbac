import { describe, expect, it } from 'vitest';
import { formatHostPort, parseHostPort } from '../../src/net/address.js';

describe('address', () => {
  it.each([
    ['127.0.0.1:7400', { host: '127.0.0.1', port: 7400 }],
    ['[::1]:1', { host: '::1', port: 1 }],
    ['[2001:db8::7]:65535', { host: '2001:db8::7', port: 65535 }],
    ['localhost:7400', { host: 'localhost', port: 7400 }],
    ['relay-2.chat.example:7400', { host: 'relay-2.chat.example', port: 7400 }],
    ['my_host.lan:80', { host: 'my_host.lan', port: 80 }],
  ])('address - reads %s', (text, want) => {
    expect(parseHostPort(text)).toEqual(want);
    expect(formatHostPort(want)).toBe(text);
  });

  it.each([
    ['no port', 'example.org'],
    ['port 0', '127.0.0.1:0'],
    ['port over 65535', '127.0.0.1:70000'],
    ['a six-digit port', '127.0.0.1:007400'],
    ['IPv6 without brackets', '::1:7400'],
    ['brackets around IPv4', '[127.0.0.1]:7400'],
    ['an IPv6 zone', '[fe80::1%eth0]:7400'],
    ['a space', 'a b:7400'],
    ['an escape sequence', '\u001b[31m:7400'],
    ['a label starting with a hyphen', '-a.example:7400'],
    ['an empty label', 'a..example:7400'],
    ['a label of 64', `${'a'.repeat(64)}.example:7400`],
    ['a name over 253', `${'a.'.repeat(127)}a:7400`],
    ['nothing', ''],
    ['a comma', 'a:1,b:2'],
  ])('address - refuses %s', (_what, text) => {
    expect(parseHostPort(text)).toBeNull();
  });
});
