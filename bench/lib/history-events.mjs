// The events of the history bench (bench/history.mjs), always the same: 35 per 10 messages, the
// peer of each message from a hash of its number (peer 1 for 1 in 50, the other 49 peers share
// the rest). Pure: the same index gives the same event in every run and process.

export const PEERS = 50;
export const EVENTS_PER_BLOCK = 35; // per 10 messages
const BATCH = 1000;
const T0 = 1_790_000_000_000;

// Peer of message m: 1 in 50 go to peer 1, the rest spread over peers 2..50.
function peerOf(m) {
  const h = Math.imul(m ^ (m >>> 16), 0x45d9f3b) >>> 0;
  const h2 = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  const x = (h2 ^ (h2 >>> 16)) >>> 0;
  return x % 50 === 0 ? 1 : 2 + (Math.floor(x / 50) % (PEERS - 1));
}

const TEXTS = [
  'Привет! How are you doing today?',
  'Fine, thanks. Did you see the file I sent yesterday?',
  'ok',
  'Let us meet at 7 near the station, the usual place.',
  'Sure 👍',
  'I will call you back in ten minutes, I am on the train now and the signal is poor.',
  'Thanks!',
  'What time works for you tomorrow?',
];

// One block: 10 messages, 35 events. Each slot: [message offset in block, kind].
// Kinds: S sent, Q quota out, T transmitted, D delivered (of the message at the offset),
// R received, I quota in, M read by me (of the offset), P read by peer (of the offset).
// Directions: offsets 0,1,2,5,6,7 out; 3,4,8,9 in.
const BLOCK = [
  [0, 'S'], [0, 'Q'], [0, 'T'],
  [1, 'S'], [1, 'Q'], [1, 'T'], [0, 'D'],
  [2, 'S'], [2, 'Q'], [2, 'T'], [1, 'D'],
  [3, 'R'], [3, 'I'], [2, 'D'],
  [4, 'R'], [4, 'I'], [4, 'M'],
  [5, 'S'], [5, 'Q'], [5, 'T'],
  [6, 'S'], [6, 'Q'], [6, 'T'], [5, 'D'],
  [7, 'S'], [7, 'Q'], [7, 'T'], [6, 'D'],
  [8, 'R'], [8, 'I'], [7, 'D'], [7, 'P'],
  [9, 'R'], [9, 'I'], [9, 'M'],
];
if (BLOCK.length !== EVENTS_PER_BLOCK) throw new Error('the block is not 35 events');

// Where in a block each message's own event (sent or received) is: its seq, which the receipts
// name (msgSeq), as the running client names it when it journals a receipt.
const SLOT_OF = Array.from({ length: 10 }, (_, off) => BLOCK.findIndex(([o, k]) => o === off && (k === 'S' || k === 'R')));

// Event i of the stream (0-based; its seq in a fresh profile is i + 1).
function makeEvent(i) {
  const block = Math.floor(i / EVENTS_PER_BLOCK);
  const [off, kind] = BLOCK[i - block * EVENTS_PER_BLOCK];
  const m = block * 10 + off;
  const msgSeq = block * EVENTS_PER_BLOCK + SLOT_OF[off] + 1;
  const peer = peerOf(m);
  const at = T0 + i * 97;
  switch (kind) {
    case 'S': return { type: 'message.sent', id: 'o' + m, peer, text: TEXTS[m % TEXTS.length] + ' #' + m, packets: 1, at };
    case 'Q': return { type: 'quota.spent', peer, direction: 'outbound', kind: 'messages', n: 1, ref: 'o' + m, at };
    case 'T': return { type: 'message.transmitted', id: 'o' + m, peer, msgSeq, at };
    case 'D': return { type: 'message.delivered', id: 'o' + m, peer, msgSeq, receivedAt: at - 40, at };
    case 'R': return { type: 'message.received', id: 'i' + m, peer, text: TEXTS[(m * 3) % TEXTS.length] + ' #' + m, sentAt: at - 150, at };
    case 'I': return { type: 'quota.spent', peer, direction: 'inbound', kind: 'messages', n: 1, ref: 'i' + m, at };
    case 'M': return { type: 'message.read', id: 'i' + m, peer, by: 'me', msgSeq, at };
    case 'P': return { type: 'message.read', id: 'o' + m, peer, by: 'peer', msgSeq, at };
    default: throw new Error('kind ' + kind);
  }
}

// Events [start, end) in batches of BATCH.
export function batchesOf(start, end) {
  const out = [];
  for (let b = start; b < end; b += BATCH) {
    const n = Math.min(BATCH, end - b);
    const events = new Array(n);
    for (let k = 0; k < n; k++) events[k] = makeEvent(b + k);
    out.push(events);
  }
  return out;
}

// The seq of the first message of each chat (and how many messages each holds) in the first
// `messages` messages: the range a page read picks its place in.
export function chatsOf(messages) {
  const first = {};
  const count = {};
  for (let m = 0; m < messages; m++) {
    const peer = peerOf(m);
    if (first[peer] === undefined) {
      const block = Math.floor(m / 10);
      const off = m % 10;
      const slot = BLOCK.findIndex(([o, k]) => o === off && (k === 'S' || k === 'R'));
      first[peer] = block * EVENTS_PER_BLOCK + slot + 1;
    }
    count[peer] = (count[peer] ?? 0) + 1;
  }
  return { first, count };
}
