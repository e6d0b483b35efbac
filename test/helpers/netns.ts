// Network namespaces for the tests that need a network of their own (a closed LAN, NATs): whether
// this machine can make them, and `ip` run with a clear error. They need Linux, root and `ip netns`.
import { spawnSync } from 'node:child_process';

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

export function ip(args: string[]): void {
  const r = spawnSync('ip', args);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.toString().trim()}`);
}

// A command run inside a namespace (iptables, sysctl), with a clear error.
export function inNs(namespace: string, command: string[]): void {
  const r = spawnSync('ip', ['netns', 'exec', namespace, ...command]);
  if (r.error || r.status !== 0) throw new Error(`in ${namespace}: ${command.join(' ')}: ${r.error?.message ?? r.stderr.toString().trim()}`);
}
