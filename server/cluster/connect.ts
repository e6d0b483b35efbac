// The NATS connection of one process: its servers, credentials and TLS from the options.
import fs from 'node:fs';
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
    // of a failure that rarely comes: 3% of a process's CPU in the presence rounds of the cluster
    // bench, more in its logins. Our errors say which key and bucket; the stack adds nothing.
    noAsyncTraces: true,
  };
  if (o.auth.user !== undefined) {
    options.user = o.auth.user;
    options.pass = o.auth.pass;
  }
  if (o.auth.token !== undefined) options.token = o.auth.token;
  if (o.auth.credsFile !== undefined) options.authenticator = credsAuthenticator(fs.readFileSync(o.auth.credsFile));
  if (o.tls) options.tls = { caFile: o.tls.ca, certFile: o.tls.cert, keyFile: o.tls.key };
  try {
    return await connect(options);
  } catch (err) {
    throw clusterUnreachable(o.servers, err);
  }
}
