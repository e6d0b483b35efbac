// The server's injected clock (options.now): every deadline and every time it states is read
// from it, so a test moves the time instead of waiting. The real bounds here are a minute long:
// only the injected clock can make them fall due within the test's wait.
import { describe, expect, it } from 'vitest';
import { WIRE_CODE } from '../../src/net/constants.js';
import { connect, serverSuite, WAIT_MS, within } from './helpers.js';

const suite = serverSuite(['alice'], 'clock');

describe('server - injected clock', () => {
  const minute = { loginTimeoutMs: 60_000, deadAfterMs: 60_000, heartbeatMs: 30_000, closeGraceMs: 100 };

  it('clock - a connection that never logs in gets LOGIN_TIMEOUT once the injected clock passes the bound', async () => {
    let t = Date.now();
    const { port, srv } = await suite.server({ ...minute, now: () => t });
    const c = await connect({ port, creds: suite.pki.creds.alice, caPem: suite.pki.caPem });
    suite.keep(c);
    // The client's handshake can end before the server's (it reads the client's Finished last):
    // the clock moves once the server holds the connection with TLS up, so that it answers
    // LOGIN_TIMEOUT rather than a plain close (PROTOCOL.md section 6).
    await within<void>(WAIT_MS, 'the server to finish the handshake', (resolve) => {
      const timer = setInterval(() => {
        const s = srv.stats();
        if (s.pending === 1 && s.handshaking === 0) resolve();
      }, 5);
      return () => clearInterval(timer);
    });
    // Just before and after the bound are the table's (decisions.test.ts); here, that the sweep
    // reads this clock.
    t += 60_001;
    const refused = await c.next('error', WAIT_MS);
    expect(refused.code).toBe(WIRE_CODE.LOGIN_TIMEOUT);
  });

  it('clock - login-ok and time state the injected time; heartbeats and the dead-after bound follow it', async () => {
    let t = Date.now() - 5_000;
    const { port } = await suite.server({ ...minute, now: () => t });
    const c = await connect({ port, creds: suite.pki.creds.alice, caPem: suite.pki.caPem });
    suite.keep(c);
    const ok = await c.login();
    expect(ok).toMatchObject({ type: 'login-ok', serverTime: t, heartbeatMs: 30_000 });
    c.send({ type: 'time-request' });
    expect((await c.next('time', WAIT_MS)).serverTime).toBe(t);
    t += 30_000;
    await c.next('heartbeat', WAIT_MS);
    t += 30_001;
    const bye = await c.next('bye', WAIT_MS);
    expect(bye.code).toBe(WIRE_CODE.HEARTBEAT_TIMEOUT);
  });
});
