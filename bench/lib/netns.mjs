// Network namespaces for the tests and benchmarks that need a network of their own (test/helpers/
// netns.ts gives them types): two hosts behind two NATs, two hosts on a closed LAN. They need
// Linux, root, `ip` (iproute2) and `iptables`.
import { spawnSync } from 'node:child_process';

export function ip(args) {
  const r = spawnSync('ip', args);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.toString().trim()}`);
}

// A command run inside a namespace (iptables, sysctl), with a clear error.
export function inNs(namespace, command) {
  const r = spawnSync('ip', ['netns', 'exec', namespace, ...command]);
  if (r.error || r.status !== 0) throw new Error(`in ${namespace}: ${command.join(' ')}: ${r.error?.message ?? r.stderr.toString().trim()}`);
}

// Two hosts behind two NATs on one wan, in namespaces of their own:
//
//   host a (10.1.0.2) ── nat a (10.1.0.1 | 203.0.113.10) ──┐
//                                                           ├── wan (203.0.113.1)
//   host b (10.2.0.2) ── nat b (10.2.0.1 | 203.0.113.20) ──┘
//
// Each NAT masquerades its host and drops, without a word, every packet from the wan that does not
// belong to a connection its host opened, to the host and to the router itself (a home router's
// firewall; a RST from the router for a SYN that came early would end the peer's punch).
// `tag` makes the names unique to a run (under 15 characters with it). remove() undoes it all.
export const WAN_ADDRESS = '203.0.113.1';

export function makeNatPair(tag) {
  const ns = { wan: `nw${tag}`, natA: `nna${tag}`, natB: `nnb${tag}`, a: `nha${tag}`, b: `nhb${tag}` };
  const remove = () => {
    for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'del', n]);
  };
  remove();
  for (const n of Object.values(ns)) ip(['netns', 'add', n]);
  for (const n of Object.values(ns)) ip(['-n', n, 'link', 'set', 'lo', 'up']);
  ip(['-n', ns.wan, 'link', 'add', 'br0', 'type', 'bridge']);
  ip(['-n', ns.wan, 'addr', 'add', `${WAN_ADDRESS}/24`, 'dev', 'br0']);
  ip(['-n', ns.wan, 'link', 'set', 'br0', 'up']);
  const sides = [
    { nat: ns.natA, host: ns.a, outside: '203.0.113.10/24', inside: '10.1.0.1/24', address: '10.1.0.2/24', gateway: '10.1.0.1', w: 'wa' },
    { nat: ns.natB, host: ns.b, outside: '203.0.113.20/24', inside: '10.2.0.1/24', address: '10.2.0.2/24', gateway: '10.2.0.1', w: 'wb' },
  ];
  for (const s of sides) {
    ip(['link', 'add', 'wan0', 'netns', s.nat, 'type', 'veth', 'peer', 'name', s.w, 'netns', ns.wan]);
    ip(['-n', ns.wan, 'link', 'set', s.w, 'master', 'br0', 'up']);
    ip(['-n', s.nat, 'addr', 'add', s.outside, 'dev', 'wan0']);
    ip(['-n', s.nat, 'link', 'set', 'wan0', 'up']);
    ip(['link', 'add', 'lan0', 'netns', s.nat, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s.host]);
    ip(['-n', s.nat, 'addr', 'add', s.inside, 'dev', 'lan0']);
    ip(['-n', s.nat, 'link', 'set', 'lan0', 'up']);
    ip(['-n', s.host, 'addr', 'add', s.address, 'dev', 'eth0']);
    ip(['-n', s.host, 'link', 'set', 'eth0', 'up']);
    ip(['-n', s.host, 'route', 'add', 'default', 'via', s.gateway]);
    inNs(s.nat, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    for (const chain of ['FORWARD', 'INPUT']) {
      inNs(s.nat, ['iptables', '-A', chain, '-i', 'wan0', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT']);
      inNs(s.nat, ['iptables', '-A', chain, '-i', 'wan0', '-j', 'DROP']);
    }
  }
  // The NATs' translation: MASQUERADE keeps a local port's mapping for every destination
  // (endpoint-independent) when it can; --random-fully draws a port per connection (symmetric).
  const masquerade = (mode) => {
    for (const nat of [ns.natA, ns.natB]) {
      inNs(nat, ['iptables', '-t', 'nat', '-F', 'POSTROUTING']);
      inNs(nat, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan0', '-j', 'MASQUERADE', ...(mode === 'symmetric' ? ['--random-fully'] : [])]);
    }
  };
  masquerade('keeps-ports');
  return { ...ns, masquerade, remove };
}

// Two hosts on one closed LAN: a bridge in a namespace of its own (nothing of the host is
// touched), a veth pair from each host to it, one /24 (10.77.0.1 and 10.77.0.2), no default route
// anywhere, so only each interface's directed broadcast reaches the other. remove() undoes it.
export function makeClosedLan(tag) {
  const ns = { a: `pla${tag}`, b: `plb${tag}`, lan: `pll${tag}` };
  const remove = () => {
    for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'del', n]);
  };
  remove();
  for (const n of Object.values(ns)) ip(['netns', 'add', n]);
  ip(['-n', ns.lan, 'link', 'add', 'br0', 'type', 'bridge']);
  ip(['-n', ns.lan, 'link', 'set', 'br0', 'up']);
  for (const [host, address] of [['a', '10.77.0.1/24'], ['b', '10.77.0.2/24']]) {
    ip(['link', 'add', 'eth0', 'netns', ns[host], 'type', 'veth', 'peer', 'name', `p${host}`, 'netns', ns.lan]);
    ip(['-n', ns.lan, 'link', 'set', `p${host}`, 'master', 'br0', 'up']);
    ip(['-n', ns[host], 'addr', 'add', address, 'dev', 'eth0']);
    ip(['-n', ns[host], 'link', 'set', 'eth0', 'up']);
    ip(['-n', ns[host], 'link', 'set', 'lo', 'up']);
  }
  return { ...ns, remove };
}
