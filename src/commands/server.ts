// `parley server ...`: the rendezvous server (server/) and its operator's commands. This file
// reads options and the key password, starts the server, prints one line when it listens, and
// stops it cleanly on SIGINT, SIGTERM, SIGHUP (its window closed) or SIGBREAK (Ctrl+Break).
import path from 'node:path';
import type { Command } from 'commander';
import { ENV } from '../../cert/constants.js';
import { obtainPassword } from '../../cert/password.js';
import { loadIdentity } from '../net/tls.js';
import { badListen, notAServerCertificate } from '../../server/errors.js';
import { revokeKey } from '../../server/revoke.js';
import { SERVER_DEFAULTS, startServer } from '../../server/server.js';
import { CLUSTER_DEFAULTS, type ClusterConfig } from '../../server/options.js';
import { badInput } from '../errors.js';
import { readText } from '../../cert/files.js';
import { printJson, printLine } from './common.js';
import { catchSignals } from './signals.js';

type ServerOpts = {
  listen?: string;
  ca?: string;
  cert?: string;
  key?: string;
  data?: string;
  passwordFile?: string;
  cluster?: string;
  node?: string;
  public?: string;
  clusterName?: string;
  replicas?: string;
  natsUser?: string;
  natsPasswordFile?: string;
  natsTokenFile?: string;
  natsCreds?: string;
  natsCa?: string;
  natsCert?: string;
  natsKey?: string;
};
type RevokeOpts = { data: string; keySha256: string; json?: boolean };

export function registerServerCommands(program: Command): void {
  const server = program
    .command('server')
    .description('run the rendezvous server until Ctrl+C (SIGINT, SIGTERM, SIGHUP or SIGBREAK): sign-in, presence, introductions, relay')
    .option('--listen <host:port>', `the address to listen on (e.g. 0.0.0.0:${SERVER_DEFAULTS.port}; port 0: any free port)`)
    .option('--ca <file>', 'the CA certificate (rootCA.crt) its clients must be signed by')
    .option('--cert <file>', "the server's certificate (signed with --role server)")
    .option('--key <file>', "the server's private key")
    .option('--data <dir>', "the server's own directory: its journal and admin socket")
    .option('--password-file <file>', `the key password, first line (else ${ENV.KEY_PASSWORD}, else asked)`)
    .option('--cluster <urls>', 'one process of several acting as one server: the NATS servers, nats://HOST:PORT[,nats://HOST:PORT...] (docs/OPERATOR.md)')
    .option('--node <name>', "this process's name in the cluster (letters, digits, - and _; unique)")
    .option('--public <host:port>', 'where clients reach this process (named to them for relays)')
    .option('--cluster-name <name>', `prefix of the cluster's buckets and subjects (default ${CLUSTER_DEFAULTS.name})`)
    .option('--replicas <n>', `copies of the cluster's data on the NATS nodes (default ${CLUSTER_DEFAULTS.replicas})`)
    .option('--nats-user <user>', 'NATS user (its password: --nats-password-file, else PARLEY_NATS_PASSWORD)')
    .option('--nats-password-file <file>', 'the NATS password, first line')
    .option('--nats-token-file <file>', 'a NATS token, first line')
    .option('--nats-creds <file>', 'a NATS credentials file (JWT and NKey)')
    .option('--nats-ca <file>', "the CA certificate of the NATS servers' TLS")
    .option('--nats-cert <file>', "this process's TLS certificate for NATS")
    .option('--nats-key <file>', "this process's TLS key for NATS")
    .action(async (opts: ServerOpts) => runServer(opts));

  server
    .command('revoke')
    .description("revoke a client's key: its sessions are closed, its logins refused, its watchers told")
    .requiredOption('--data <dir>', "the server's data directory (works whether the server runs or not)")
    .requiredOption('--key-sha256 <hex>', "the client's key_sha256, as `parley cert show client.crt` prints it (not its fingerprint_sha256)")
    .option('--json', 'print the result as one JSON line')
    .action(async (opts: RevokeOpts) => runRevoke(opts));
}

// => { host: '0.0.0.0', port: 7300 } from '0.0.0.0:7300'; '[::1]:7300' for IPv6
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.%\w]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(String(text).trim());
  if (!m) throw badListen(text);
  const port = Number(m[3]);
  if (port > 65535) throw badListen(text);
  return { host: m[1] ?? m[2], port };
}

// The CLI puts "parley: " before the message: => 'parley: server needs --listen HOST:PORT (...)'
function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw badInput('MISSING_OPTION', `server needs ${flag} (parley server --help lists its options)`);
  return value;
}

async function runServer(opts: ServerOpts): Promise<void> {
  const { host, port } = parseListen(required(opts.listen, '--listen HOST:PORT'));
  const caFile = required(opts.ca, '--ca FILE');
  const certFile = required(opts.cert, '--cert FILE');
  const keyFile = required(opts.key, '--key FILE');
  const dataDir = path.resolve(required(opts.data, '--data DIR'));
  const password = await obtainPassword({ what: 'key', file: opts.passwordFile, env: ENV.KEY_PASSWORD });
  const identity = loadIdentity({ caFile, certFile, keyFile, password });
  if (identity.role !== 'server') throw notAServerCertificate(certFile, identity.role);

  const server = await startServer({
    identity,
    dataDir,
    host,
    port,
    cluster: clusterOf(opts),
    log: (line) => process.stderr.write(line + '\n'),
  });
  const where = server.address();
  printLine(`parley server listening on ${where.host.includes(':') ? `[${where.host}]` : where.host}:${where.port}`);

  // Not listened to while it closes: a second signal ends the process as Node does.
  const signals = catchSignals();
  await signals.first();
  signals.stop();
  await server.close();
  printLine('parley server stopped');
}

// The cluster options, or undefined for a server alone; the NATS secrets read from their files.
function clusterOf(opts: ServerOpts): ClusterConfig | undefined {
  const named = [opts.node, opts.public, opts.clusterName, opts.replicas, opts.natsUser, opts.natsPasswordFile, opts.natsTokenFile, opts.natsCreds, opts.natsCa, opts.natsCert, opts.natsKey];
  if (opts.cluster === undefined) {
    if (named.some((v) => v !== undefined)) throw badInput('MISSING_OPTION', 'the cluster options (--node, --public, --nats-...) go with --cluster nats://HOST:PORT[,...]');
    return undefined;
  }
  const servers = opts.cluster.split(',').map((u) => u.trim());
  const node = required(opts.node, '--node NAME with --cluster');
  const publicAddress = parseListen(required(opts.public, '--public HOST:PORT with --cluster'));
  const replicas = opts.replicas === undefined ? undefined : Number(opts.replicas);
  const firstLine = (file: string, what: string): string => readText(file, what).split(/\r?\n/)[0];
  const pass = opts.natsPasswordFile ? firstLine(opts.natsPasswordFile, 'NATS password file') : process.env.PARLEY_NATS_PASSWORD;
  const tls = opts.natsCa || opts.natsCert || opts.natsKey ? { ca: opts.natsCa, cert: opts.natsCert, key: opts.natsKey } : null;
  return {
    servers,
    node,
    publicAddress: `${publicAddress.host.includes(':') ? `[${publicAddress.host}]` : publicAddress.host}:${publicAddress.port}`,
    name: opts.clusterName,
    replicas,
    auth: { user: opts.natsUser, pass: opts.natsUser ? pass : undefined, token: opts.natsTokenFile ? firstLine(opts.natsTokenFile, 'NATS token file') : undefined, credsFile: opts.natsCreds },
    tls,
  };
}

async function runRevoke(opts: RevokeOpts): Promise<void> {
  const outcome = await revokeKey(path.resolve(opts.data), opts.keySha256);
  // A key no client has signed in with is revoked all the same (a key can be revoked before its
  // first use), but it is more often a wrong paste: the certificate's fingerprint_sha256 instead
  // of its key_sha256.
  if (outcome.revoked && outcome.id === null) {
    process.stderr.write(
      `parley: warning: no client with key ${outcome.keySha256} has signed in on this server; it is revoked anyway. ` +
        'If you pasted a fingerprint_sha256, revoke the key_sha256 that `parley cert show FILE` prints instead\n',
    );
  }
  if (opts.json) return printJson(outcome);
  const who = outcome.id === null ? 'a key that never signed in' : `id ${outcome.id}`;
  if (!outcome.revoked) return printLine(`${outcome.keySha256} (${who}) was already revoked`);
  printLine(`revoked ${outcome.keySha256} (${who})`);
  if (outcome.via === 'running-server') printLine(`the running server closed ${outcome.closed} of its connections`);
  else printLine('the server is not running: it refuses this key from its next start');
}
