// parley limits [--peer ID] [--json]; limits grant; limits audit
import type { Command } from 'commander';
import { badInput } from '../errors.js';
import type { QuotaDirection, QuotaKind, Stored } from '../events/types.js';
import { inboundGrants, left, quotaOf, type PeerQuota, type QuotasState } from '../projections/quotas.js';
import { parseCount, parseId, peerName, printError, printJson, printLine, profileOptions, requireKnownPeer, withProfile, writeOut } from './common.js';

const DIRECTIONS: QuotaDirection[] = ['inbound', 'outbound'];
const KINDS: QuotaKind[] = ['messages', 'files'];

function quotaRow(peer: number, q: PeerQuota) {
  const side = (d: QuotaDirection) => ({
    messages: { granted: q[d].messages.granted, spent: q[d].messages.spent, left: left(q[d].messages) },
    files: { granted: q[d].files.granted, spent: q[d].files.spent, left: left(q[d].files) },
  });
  return { peer, inbound: side('inbound'), outbound: side('outbound') };
}

function peersOf(state: QuotasState, contactIds: number[]): number[] {
  const ids = new Set<number>(contactIds);
  for (const key of Object.keys(state)) ids.add(Number(key));
  return [...ids].sort((a, b) => a - b);
}

export type AuditLine = {
  seq: number;
  at: number;
  peer: number;
  direction: QuotaDirection;
  kind: QuotaKind;
  op: 'grant' | 'spend' | 'refuse';
  n: number;
  balance: number;
};

// The audit: every grant, spend and refusal in journal order with the running balance (what is
// left) of its (peer, direction, kind), and whether those balances end where the quota
// projection says they are. Pure and fed one event at a time, so that the command streams a
// journal of any length in flat memory (only the running balances are kept), and a test can
// feed it events.
export type Audit = {
  add: (event: Stored) => AuditLine | null;
  consistent: (state: QuotasState) => boolean;
};

export function makeAudit(peer?: number): Audit {
  const running = new Map<string, { granted: number; spent: number }>();
  return {
    add(e) {
      if (e.type !== 'quota.granted' && e.type !== 'quota.spent' && e.type !== 'quota.refused') return null;
      if (peer !== undefined && e.peer !== peer) return null;
      const key = `${e.peer}/${e.direction}/${e.kind}`;
      let r = running.get(key);
      if (!r) {
        r = { granted: 0, spent: 0 };
        running.set(key, r);
      }
      if (e.type === 'quota.granted') r.granted += e.n;
      if (e.type === 'quota.spent') r.spent += e.n;
      const op = e.type === 'quota.granted' ? 'grant' : e.type === 'quota.spent' ? 'spend' : 'refuse';
      return { seq: e.seq, at: e.at, peer: e.peer, direction: e.direction, kind: e.kind, op, n: e.n, balance: r.granted - r.spent };
    },
    consistent(state) {
      for (const key of Object.keys(state)) {
        const p = Number(key);
        if (peer !== undefined && p !== peer) continue;
        for (const d of DIRECTIONS) {
          for (const k of KINDS) {
            const b = state[key][d][k];
            const r = running.get(`${p}/${d}/${k}`) ?? { granted: 0, spent: 0 };
            if (b.granted !== r.granted || b.spent !== r.spent) return false;
          }
        }
      }
      for (const key of running.keys()) {
        const [p] = key.split('/');
        if (!state[p]) return false;
      }
      return true;
    },
  };
}

// The whole audit of a list of events at once: for tests.
export function auditQuotas(events: Iterable<Stored>, state: QuotasState, peer?: number): { lines: AuditLine[]; consistent: boolean } {
  const audit = makeAudit(peer);
  const lines: AuditLine[] = [];
  for (const e of events) {
    const line = audit.add(e);
    if (line) lines.push(line);
  }
  return { lines, consistent: audit.consistent(state) };
}

// `limits` and `limits audit`: all contacts or one (--peer, which must be a contact), as lines or JSON.
function perPeer(cmd: Command): Command {
  return profileOptions(cmd).option('--peer <id>', 'only this contact').option('--json', 'one JSON object per line');
}

export function registerLimitsCommands(program: Command): void {
  const limits = perPeer(program.command('limits').description('packet limits per contact: what is granted, spent and left'))
    .action(async (opts: { peer?: string; json?: boolean }, cmd: Command) => {
      const only = opts.peer === undefined ? undefined : parseId(opts.peer, 'peer id');
      await withProfile(cmd, async (profile) => {
        if (only !== undefined) requireKnownPeer(profile, only);
        const state = profile.views.quotas;
        const peers = only !== undefined ? [only] : peersOf(state, Object.values(profile.views.contacts).map((c) => c.id));
        for (const p of peers) {
          const row = quotaRow(p, quotaOf(state, p));
          if (opts.json) {
            printJson(row);
            continue;
          }
          const name = peerName(profile, p);
          const fmt = (d: QuotaDirection, k: QuotaKind) => `${row[d][k].left}/${row[d][k].granted}`;
          printLine(`${p} ${name}: inbound messages ${fmt('inbound', 'messages')}, files ${fmt('inbound', 'files')}; outbound messages ${fmt('outbound', 'messages')}, files ${fmt('outbound', 'files')} (left/granted)`);
        }
        if (!opts.json && peers.length === 0) printLine('no limits yet: parley limits grant --peer ID --messages N');
      }, { readOnly: true });
    });

  profileOptions(limits.command('grant').description('allow a contact to send me N more packets'))
    .requiredOption('--peer <id>', 'the contact')
    .option('--messages <n>', 'packets of messages')
    .option('--files <n>', 'packets of files')
    .option('--json', 'print the new limits as JSON')
    .action(async (opts: { peer: string; messages?: string; files?: string; json?: boolean }, cmd: Command) => {
      const peer = parseId(opts.peer, 'peer id');
      const messages = opts.messages === undefined ? 0 : parseCount(opts.messages, '--messages');
      const files = opts.files === undefined ? 0 : parseCount(opts.files, '--files');
      if (messages === 0 && files === 0) throw badInput('NOTHING_GRANTED', 'say how many packets to grant: --messages N and/or --files N (N > 0)');
      if (messages > 1e12 || files > 1e12) throw badInput('BAD_NUMBER', 'a grant is at most 1000000000000 packets');
      await withProfile(cmd, async (profile) => {
        requireKnownPeer(profile, peer);
        await profile.appendMany(inboundGrants(peer, { messages, files }));
        const row = quotaRow(peer, quotaOf(profile.views.quotas, peer));
        if (opts.json) printJson(row);
        else printLine(`${peer} may now send me ${row.inbound.messages.left} packets of messages and ${row.inbound.files.left} of files`);
      });
    });

  perPeer(limits.command('audit').description('every grant, spend and refusal, and whether they add up'))
    .action(async (opts: { peer?: string; json?: boolean }, cmd: Command) => {
      const only = opts.peer === undefined ? undefined : parseId(opts.peer, 'peer id');
      await withProfile(cmd, async (profile) => {
        if (only !== undefined) requireKnownPeer(profile, only);
        const audit = makeAudit(only);
        let unreadable = 0;
        let out = '';
        // Read and printed a journal page at a time, waiting for a full pipe: flat memory.
        for await (const e of profile.journal.read({
          onCorrupt: (_err, seq) => {
            unreadable++;
            printError(`parley: event ${seq} cannot be read, so the audit cannot vouch for it`);
          },
        })) {
          const l = audit.add(e);
          if (l === null) continue;
          out += opts.json ? JSON.stringify(l) + '\n' : `${l.seq}\t${new Date(l.at).toISOString()}\t${l.peer}\t${l.direction}\t${l.kind}\t${l.op}\t${l.n}\tleft ${l.balance}\n`;
          if (out.length > 64 * 1024) {
            await writeOut(out);
            out = '';
          }
        }
        await writeOut(out);
        // An unreadable event may have been a grant or a spend: then nothing can be said to add up.
        const consistent = audit.consistent(profile.views.quotas) && unreadable === 0;
        if (opts.json) printJson({ consistent });
        else if (consistent) printLine('consistent: the journal adds up to the limits shown');
        else if (unreadable > 0) printLine(`NOT consistent: ${unreadable} event(s) of the journal cannot be read`);
        else printLine('NOT consistent: the limits shown differ from the journal (run parley journal rebuild)');
      }, { readOnly: true });
    });
}
