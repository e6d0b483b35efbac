// Finding the transfer that a command names by its id (transfers accept, decline, cancel): ids
// are chosen by each side, so one id may name several transfers, told apart by peer and direction.
import { badInput, EXIT, parleyError } from '../errors.js';
import type { Direction } from '../events/types.js';
import type { Profile } from '../node/profile.js';
import type { Transfer } from '../projections/transfer-values.js';
import { peerName } from './common.js';

// The rows of a page that `transfers` reads at once when no --limit is given: all of them are
// listed, a page at a time, so memory stays flat however many there were.
export const PAGE = 200;

// Every transfer with this id among `candidates`, then, when none is open, among all (read by
// page from the newest: the slow path, taken only to say why a command cannot be done).
async function transfersWithId(profile: Profile, id: string, only: { peer?: number; direction?: Direction }): Promise<Transfer[]> {
  const matches = (t: Transfer) => t.id === id && (only.peer === undefined || t.peer === only.peer) && (only.direction === undefined || t.direction === only.direction);
  if (only.peer !== undefined) {
    const directions: Direction[] = only.direction ? [only.direction] : ['in', 'out'];
    const found = await Promise.all(directions.map((d) => profile.transfer(only.peer as number, d, id)));
    return found.filter((t): t is Transfer => t !== undefined);
  }
  const open = (await profile.openTransfers()).filter(matches);
  if (open.length > 0) return open;
  const all: Transfer[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await profile.transfers({ limit: PAGE, before });
    all.push(...page.filter(matches));
    if (page.length < PAGE) return all;
    before = page[page.length - 1].seq;
  }
}

// => 'from Bob (5)', 'to Bob (5)'
export function sideOf(profile: Profile, t: Transfer): string {
  return `${t.direction === 'in' ? 'from' : 'to'} ${peerName(profile, t.peer)} (${t.peer})`;
}

// The one transfer `id` names that `fits`; else exit 4 when none has that id, exit 2 naming
// its state when the only one does not fit, or the peers to choose from when several do.
export async function oneTransfer(
  profile: Profile,
  id: string,
  only: { peer?: number; direction?: Direction },
  fits: (t: Transfer) => boolean,
  unfit: (t: Transfer) => string,
): Promise<Transfer> {
  const found = await transfersWithId(profile, id, only);
  const fitting = found.filter(fits);
  if (fitting.length === 1) return fitting[0];
  if (found.length === 0) {
    const where = only.peer !== undefined ? ` with ${peerName(profile, only.peer)}` : '';
    throw parleyError('NO_SUCH_TRANSFER', `there is no transfer ${id}${where} (parley transfers lists them)`, EXIT.PEER);
  }
  if (fitting.length === 0) {
    if (found.length === 1) throw badInput('TRANSFER_STATE', unfit(found[0]));
    throw badInput('TRANSFER_STATE', `transfer ${id}: ${found.map((t) => `${sideOf(profile, t)} is ${t.state}`).join('; ')}`);
  }
  const which = fitting.map((t) => sideOf(profile, t)).join(', ');
  const needsDirection = new Set(fitting.map((t) => t.peer)).size < fitting.length;
  throw badInput('AMBIGUOUS_TRANSFER', `${fitting.length} transfers have the id ${id} (${which}): choose one with --peer ID${needsDirection ? ' --direction in|out' : ''}`);
}
