/** The e-mail channel against a real local SMTP server (smtp-server). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createEmailChannel } from '../../src/adapters/notify-email.ts';
import type { NotificationMessage } from '../../src/ports.ts';

interface Mail {
  from: string;
  to: string[];
  data: string;
  user: string | undefined;
}
const mails: Mail[] = [];
let smtp: SMTPServer;
let port = 0;

before(async () => {
  smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      if (auth.username === 'alerts' && auth.password === 'pw') cb(null, { user: 'alerts' });
      else cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, cb) {
      if (address.address.endsWith('@blocked.example')) cb(new Error('mailbox unavailable'));
      else cb();
    },
    onData(stream, session, cb) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString('utf8')));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  port = (smtp.server.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => smtp.close(r)));

const msg: NotificationMessage = {
  notificationId: 'n-7',
  kind: 'recommendation_pending',
  action: 'trigger',
  dedupKey: 'rec:r-1',
  severity: 'high',
  area: 'Crushing',
  equipmentId: 'CRUSHER_01',
  title: 'Recommendation waiting 10 min: bearing_wear on CRUSHER_01',
  body: 'Reduce crusher speed to 80 % <check bearing>',
  details: { recommendationId: 'r-1', confidence: 0.82 },
  createdAt: '2026-07-01T12:00:00.000Z',
  escalationLevel: 0,
};

const options = {
  id: 'mail',
  host: '127.0.0.1',
  secure: false,
  requireTls: false,
  rejectUnauthorized: false,
  from: 'sidecar@plant.example',
  timeoutMs: 3000,
  source: 'plant-a',
};

test('sends a mail with severity and area in the subject, text and escaped HTML', async () => {
  const ch = createEmailChannel({
    ...options,
    port,
    user: 'alerts',
    password: 'pw',
    to: ['oncall@plant.example', 'lead@plant.example'],
  });
  try {
    await ch.send(msg);
  } finally {
    await ch.close?.();
  }
  const m = mails.at(-1);
  assert.ok(m);
  assert.equal(m.from, 'sidecar@plant.example');
  assert.deepEqual(m.to, ['oncall@plant.example', 'lead@plant.example']);
  assert.equal(m.user, 'alerts');
  // Long headers are folded (RFC 5322 §2.2.3); unfold before matching.
  assert.match(
    m.data.replace(/\r\n /g, ' '),
    /Subject: \[HIGH\] Recommendation waiting 10 min: bearing_wear on CRUSHER_01 \(Crushing\)/,
  );
  assert.match(m.data, /recommendationId: r-1/);
  assert.match(m.data, /&lt;check bearing&gt;/);
});

test('a rejected recipient, bad credentials and a dead relay reject with the channel named', async () => {
  const blocked = createEmailChannel({ ...options, port, to: ['x@blocked.example'] });
  await assert.rejects(blocked.send(msg), /email channel 'mail': .*mailbox unavailable/);
  const badAuth = createEmailChannel({
    ...options,
    port,
    user: 'alerts',
    password: 'wrong',
    to: ['a@plant.example'],
  });
  await assert.rejects(badAuth.send(msg), /email channel 'mail': EAUTH/);
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const deadPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const dead = createEmailChannel({ ...options, port: deadPort, to: ['a@plant.example'] });
  await assert.rejects(dead.send(msg), /email channel 'mail': (ESOCKET|ECONNECTION)/);
  assert.throws(() => createEmailChannel({ ...options, port, to: [] }), /at least one recipient/);
});
