// The received credit of a transfer (docs/PROTOCOL.md section 9, "Files", `got`): the receiver
// says, at once and without journaling anything, how many chunk bytes of the transfer it has
// taken off this link, and the sender keeps the bytes it handed to the link and the receiver has
// not yet taken under RECEIVED_WINDOW. Those are the bytes in the bulk queue, the sockets' and
// the two kernels' buffers and on the wire: what a message sent now waits behind. The stored
// window (sending.ts, WINDOW_BYTES: chunks sent and not acked as flushed) still bounds the bytes
// awaiting a flush; this one only keeps the part of them still on the way small.
//
//   sender: sent 5 MiB, got 3.5 MiB        mayHand(5 * MIB, 3.5 * MIB) // => true (1.5 MiB out)
//   receiver: took 1.25 MiB, told 1 MiB    dueReport(1.25 * MIB, MIB)  // => true (step 256 KiB)
//   ... with 20 MiB not yet written        dueReport(1.25 * MIB, MIB, 20 * MIB) // => false
//
// Plain arithmetic, no clock: sending.ts and receiving.ts keep the counts.

const KIB = 1024;
const MIB = 1024 * KIB;

// Chunk bytes handed to the link and not yet taken off it by the receiver, at most (then one
// chunk more may go, so a chunk larger than the window still moves). 2 MiB: with 1 MiB chunks two
// are on the way while the receiver's report of the one before comes back. Without it the
// kernels' buffers on loopback held up to 3-6.5 MB ahead of a message (`ss` every 50 ms during
// 1 GiB transfers: the sender's Send-Q, or the receiver's Recv-Q when its process was the slower
// one), 16-26 ms at 250 MB/s; with it at most 2.1 MB, and the receiver's peak RSS fell from
// 133-137 MiB to 118-125 (a machine shared with test runs, load 5-7; bench/transfer.mjs figures
// on a quiet one are in docs/BENCHMARKS.md).
export const RECEIVED_WINDOW = 2 * MIB;

// A receiver reports once the bytes it took since its last report reach this: every chunk of
// 256 KiB or more (Parley's are 1 MiB), every few of smaller ones, so a sender of one-byte chunks
// cannot make it answer each with a frame. The sender's window must exceed it: then bytes it took
// and did not report never hold the sender back (sent - told <= took - told < step < window).
export const REPORT_STEP = 256 * KIB;

// Whether the sender may hand one more chunk to the link: `sent` chunk bytes handed since the
// accept on this link, `got` the most the receiver reported taking.
export function mayHand(sent: number, got: number, window: number = RECEIVED_WINDOW): boolean {
  return sent - got < window;
}

// A receiver holds its report back while more than this many chunk bytes it took wait to be
// written: its disk is behind, and the sender, its window full, waits for the disk instead of
// filling the receiver's memory. So the receiver holds at most this, the window and two chunks in
// chunks not yet written, whatever the stored window (48 MiB) would let through. 16 MiB is four
// flushes' worth, slack for a disk that stalls now and then (or a receiver that holds its writes
// while its journal syncs, receiving.ts). Measured (1 GiB transfers, the same
// shared machine): the receiver's peak RSS 111-119 MiB with it, 118-125 with the window alone.
export const MAX_UNWRITTEN = 16 * MIB;

// Whether the receiver reports now: `took` chunk bytes taken off the link since its accept,
// `told` the count it last reported, `unwritten` the bytes taken that still wait to be written.
// It asks again as it takes a chunk and as each write ends.
export function dueReport(took: number, told: number, unwritten = 0, step: number = REPORT_STEP, max: number = MAX_UNWRITTEN): boolean {
  return took - told >= step && unwritten <= max;
}

// A report as the sender takes it: counts only grow, and never past what it sent (a report of
// more is a confused or hostile peer's, and would open the window without bound).
export function gotFrom(got: number, reported: number, sent: number): number {
  return Math.max(got, Math.min(reported, sent));
}
