// Network namespaces for the tests that need a network of their own (a closed LAN, NATs): whether
// this machine can make them, and `ip` run with a clear error. They need Linux, root and `ip netns`.
import { spawnSync } from 'node:child_process';
// The builders live in bench/lib/netns.mjs, shared with the routes benchmark; their types here.
import * as shared from '../../bench/lib/netns.mjs';

// Why namespaces cannot be used here, or null when they can.
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `plprobe${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', probe]);
  if (made.error || made.status !== 0) return `ip netns add failed: ${made.error?.message ?? made.stderr.toString().trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

// In CI (.ci/run sets CI) a test that cannot run fails instead of skipping.
export const inCi = (process.env.CI ?? '') !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

export type NatPair = { wan: string; natA: string; natB: string; a: string; b: string; masquerade: (mode: 'keeps-ports' | 'symmetric') => void; remove: () => void };
export type ClosedLan = { a: string; b: string; lan: string; remove: () => void };

export const WAN_ADDRESS: string = shared.WAN_ADDRESS;
export const ip: (args: string[]) => void = shared.ip;
export const inNs: (namespace: string, command: string[]) => void = shared.inNs;
// Two hosts behind two NATs on one wan; see bench/lib/netns.mjs.
export const makeNatPair: (tag: string) => NatPair = shared.makeNatPair;
// Two hosts on a closed LAN with no default route; see bench/lib/netns.mjs.
export const makeClosedLan: (tag: string) => ClosedLan = shared.makeClosedLan;
