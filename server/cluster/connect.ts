// The NATS connection of one process: its servers, credentials and TLS from the options.
import fs from 'node:fs';
import net from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { ClusterOptions } from './contract.js';
import { clusterUnreachable } from './errors.js';

export async function connectNats(o: ClusterOptions): Promise<NatsConnection> {
  const options: NodeConnectionOptions = {
    servers: o.servers,
    name: `parley-${o.node}`,
    timeout: 2_000,
    // Never give up: a process without NATS is fenced (fence.ts) and comes back when NATS does.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // The default (a ping every 2 minutes) would notice a silent network cut minutes late; a
    // second, two missed, notices it within about 3 s, well inside fenceAfterMs + deadAfterMs.
    pingInterval: 1_000,
    maxPingOut: 2,
    // By default every request (each bucket write is one) makes an Error up front, for the stack
    // of a failure that rarely comes: 6-7% of a server process's busy time in a profile of the
    // cluster bench. Our errors say which key and bucket; the stack adds nothing.
    noAsyncTraces: true,
  };
  if (o.auth.user !== undefined) {
    options.user = o.auth.user;
    options.pass = o.auth.pass;
  }
  if (o.auth.token !== undefined) options.token = o.auth.token;
  if (o.auth.credsFile !== undefined) options.authenticator = credsAuthenticator(fs.readFileSync(o.auth.credsFile));
  if (o.tls) {
    // The client hands its tls options on to node:tls as they are: checkServerIdentity included,
    // though its type does not list it.
    const withCheck: NonNullable<NodeConnectionOptions['tls']> & Pick<tls.ConnectionOptions, 'checkServerIdentity'> = { caFile: o.tls.ca, certFile: o.tls.cert, keyFile: o.tls.key, checkServerIdentity: natsServerIdentity(o.servers) };
    options.tls = withCheck;
  }
  try {
    return await connect(options);
  } catch (err) {
    throw clusterUnreachable(o.servers, err);
  }
}

// The NATS client names no server when its address is an IP (it sends no SNI), and Node then
// checks the certificate against "localhost": a NATS node reached as tls://10.0.0.5:4222 with a
// certificate for 10.0.0.5 would be refused. So the certificate, already checked against the CA
// given (--nats-ca), must name one of the NATS servers this process was given; a host name the
// client did send is checked as Node checks it.
export function natsServerIdentity(servers: string[]): (host: string, cert: PeerCertificate) => Error | undefined {
  const hosts = servers.map((u) => new URL(u).hostname.replace(/^\[|\]$/g, ''));
  return (host, cert) => {
    if (host && host !== 'localhost' && !net.isIP(host)) return tls.checkServerIdentity(host, cert);
    let first: Error | undefined;
    for (const h of hosts) {
      const err = tls.checkServerIdentity(h, cert);
      if (!err) return undefined;
      first ??= err;
    }
    return first;
  };
}
