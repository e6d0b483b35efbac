// `parley up --keylog FILE` (issue 10): the TLS secrets of every link this process opens or takes
// (the server session, relays, peer links) appended to FILE in the NSS key log format, one line
// per secret (`CLIENT_TRAFFIC_SECRET_0 <client random> <secret>`, ...), which Wireshark reads to
// decrypt a capture: the original wanted its encryption shown in Wireshark. Off unless asked:
// whoever reads the file reads the traffic. Node hands each line to the socket's (or the
// server's) 'keylog' event; nothing here touches the handshake.
import fs from 'node:fs';
import type tls from 'node:tls';

// The file's descriptor once set: one per process, as SSLKEYLOGFILE is.
let fd: number | null = null;

// Opens FILE for appending, private to its owner (0600 when it is made). Throws when it cannot.
export function setKeylog(file: string): void {
  fd = fs.openSync(file, 'a', 0o600);
}

export function keylogOn(): boolean {
  return fd !== null;
}

function write(line: Buffer): void {
  if (fd === null) return;
  // Each line ends with \n already; a failed write loses a secret, never the link.
  try {
    fs.writeSync(fd, line);
  } catch {
    // nothing: the key log is a help for a capture, not part of the link
  }
}

// A socket this side dialled (tls.connect): its secrets go to the file.
export function keylogSocket(socket: tls.TLSSocket): void {
  if (fd !== null) socket.on('keylog', write);
}

// A server this side runs (tls.createServer): the secrets of every link it takes go to the file.
export function keylogServer(server: tls.Server): void {
  if (fd !== null) server.on('keylog', write);
}
