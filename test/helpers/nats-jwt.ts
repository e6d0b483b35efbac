// NATS in operator mode (decentralised JWT auth), for the test of `--nats-creds`: an operator, a
// system account and an account with JetStream, each a JWT signed by its issuer's NKey as `nsc`
// makes them, and a user of that account as a credentials file. Only what nats-server 2.9 reads:
// header {typ, alg: ed25519-nkey}, claims {jti, iat, iss, name, sub, nats: {type, version 2, ...}},
// the jti a base32 SHA-512/256 of the claims, the signature ed25519 over "header.claims".
import crypto from 'node:crypto';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';
import { base32Encode } from '../../src/net/invite.js';

const HEADER = { typ: 'JWT', alg: 'ed25519-nkey' };
const UNLIMITED = { subs: -1, data: -1, payload: -1 };

function b64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString('base64url');
}

function jwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const claims: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats: { ...nats, version: 2 } };
  // The JWT library's jti: RFC 4648 base32 (upper case, no padding) of a SHA-512/256.
  claims.jti = base32Encode(crypto.createHash('sha512-256').update(JSON.stringify(claims)).digest()).toUpperCase();
  const body = `${b64url(JSON.stringify(HEADER))}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${b64url(issuer.sign(new TextEncoder().encode(body)))}`;
}

export type NatsOperator = {
  // The nats-server configuration that trusts the operator and knows both accounts.
  config: string;
  // A credentials file's text for a user of the JetStream account.
  creds: string;
  // The same for a user signed by an account the server does not know.
  strangerCreds: string;
};

export function makeNatsOperator(): NatsOperator {
  const operator = createOperator();
  const system = createAccount();
  const account = createAccount();
  const operatorJwt = jwt(operator, operator.getPublicKey(), 'parley-test', { type: 'operator', system_account: system.getPublicKey() });
  const systemJwt = jwt(operator, system.getPublicKey(), 'SYS', { type: 'account', limits: { ...UNLIMITED, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 } });
  const accountJwt = jwt(operator, account.getPublicKey(), 'parley', {
    type: 'account',
    limits: { ...UNLIMITED, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
  });
  const credsOf = (signer: KeyPair): string => {
    const user = createUser();
    const userJwt = jwt(signer, user.getPublicKey(), 'parley-server', { type: 'user', pub: {}, sub: {}, ...UNLIMITED });
    return [
      '-----BEGIN NATS USER JWT-----',
      userJwt,
      '------END NATS USER JWT------',
      '',
      '-----BEGIN USER NKEY SEED-----',
      new TextDecoder().decode(user.getSeed()),
      '------END USER NKEY SEED------',
      '',
    ].join('\n');
  };
  const config = [
    `operator: ${operatorJwt}`,
    `system_account: ${system.getPublicKey()}`,
    'resolver: MEMORY',
    'resolver_preload: {',
    `  ${system.getPublicKey()}: ${systemJwt}`,
    `  ${account.getPublicKey()}: ${accountJwt}`,
    '}',
    '',
  ].join('\n');
  return { config, creds: credsOf(account), strangerCreds: credsOf(createAccount()) };
}
