/** Webhook channels against a real local HTTP receiver: payload shapes, errors that hide secrets. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebhookChannel } from '../../src/adapters/notify-webhook.ts';
import type { NotificationMessage } from '../../src/ports.ts';

const received: { path: string; headers: Record<string, unknown>; body: Record<string, unknown> }[] = [];
let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => {
      if (req.url?.startsWith('/fail')) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"status":"invalid event","errors":["routing_key"]}');
        return;
      }
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(data) as Record<string, unknown>,
      });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise((r) => server.close(r)));

const msg = (over: Partial<NotificationMessage> = {}): NotificationMessage => ({
  notificationId: 'n-1',
  kind: 'critical_alert',
  action: 'trigger',
  dedupKey: 'alert:REACTOR_01:temperature:emergency',
  severity: 'critical',
  area: 'Reactors',
  equipmentId: 'REACTOR_01',
  title: 'EMERGENCY temperature on REACTOR_01',
  body: 'Temperature 93 °C above emergency 90 °C',
  details: { value: 93, threshold: 90 },
  createdAt: '2026-07-01T12:00:00.000Z',
  escalationLevel: 0,
  ...over,
});

test('Slack payload: text fallback plus header, section and context blocks', async () => {
  const ch = createWebhookChannel({
    id: 'chat',
    type: 'slack',
    url: `${base}/slack`,
    timeoutMs: 10_000,
    source: 'plant-a',
  });
  await ch.send(msg({ escalationLevel: 1 }));
  const b = received.find((r) => r.path === '/slack')?.body as {
    text: string;
    blocks: { type: string; text?: { text: string } }[];
  };
  assert.match(b.text, /^ESCALATION 1: EMERGENCY temperature on REACTOR_01 \(critical, Reactors\)$/);
  assert.deepEqual(
    b.blocks.map((x) => x.type),
    ['header', 'section', 'context'],
  );
  assert.equal(b.blocks[1]?.text?.text, 'Temperature 93 °C above emergency 90 °C');
  assert.equal(ch.acceptsAcknowledge, false);
});

test('Teams payload is a MessageCard with facts', async () => {
  const ch = createWebhookChannel({
    id: 'teams',
    type: 'teams',
    url: `${base}/teams`,
    timeoutMs: 10_000,
    source: 'plant-a',
  });
  await ch.send(msg({ severity: 'high' }));
  const b = received.find((r) => r.path === '/teams')?.body as Record<string, unknown> & {
    sections: { facts: { name: string; value: string }[] }[];
  };
  assert.equal(b['@type'], 'MessageCard');
  assert.equal(b['@context'], 'https://schema.org/extensions');
  assert.equal(b.themeColor, 'E65100');
  assert.ok(b.sections[0]?.facts.some((f) => f.name === 'Equipment' && f.value === 'REACTOR_01'));
});

test('PagerDuty v2: trigger carries payload fields, acknowledge only the dedup_key; generic webhook sends headers', async () => {
  const pd = createWebhookChannel({
    id: 'pd',
    type: 'pagerduty',
    url: `${base}/pd`,
    routingKey: 'abc123',
    timeoutMs: 10_000,
    source: 'plant-a',
  });
  await pd.send(msg({ severity: 'medium' }));
  await pd.send(msg({ action: 'acknowledge' }));
  const [trigger, ack] = received.filter((r) => r.path === '/pd').map((r) => r.body);
  assert.deepEqual(Object.keys((trigger?.payload ?? {}) as object).sort(), [
    'class',
    'component',
    'custom_details',
    'group',
    'severity',
    'source',
    'summary',
    'timestamp',
  ]);
  assert.equal((trigger?.payload as { severity: string }).severity, 'warning');
  assert.deepEqual(ack, {
    routing_key: 'abc123',
    event_action: 'acknowledge',
    dedup_key: 'alert:REACTOR_01:temperature:emergency',
  });
  assert.equal(pd.acceptsAcknowledge, true);
  assert.throws(
    () => createWebhookChannel({ id: 'x', type: 'pagerduty', url: base, timeoutMs: 1, source: 's' }),
    /needs a routingKey/,
  );

  const hook = createWebhookChannel({
    id: 'hook',
    type: 'webhook',
    url: `${base}/hook`,
    headers: { authorization: 'Bearer receiver-secret' },
    timeoutMs: 10_000,
    source: 'plant-a',
  });
  await hook.send(msg());
  const h = received.find((r) => r.path === '/hook');
  assert.equal(h?.headers.authorization, 'Bearer receiver-secret');
  assert.equal(h?.body.notificationId, 'n-1');
});

test('errors name the channel and the problem, never the URL or routing key', async () => {
  const secretUrl = `${base}/fail/T000/B000/XXXXSECRET`;
  const pd = createWebhookChannel({
    id: 'pd',
    type: 'pagerduty',
    url: secretUrl,
    routingKey: 'SECRETKEY',
    timeoutMs: 10_000,
    source: 's',
  });
  await assert.rejects(pd.send(msg()), (err: Error) => {
    assert.match(err.message, /^pagerduty channel 'pd': HTTP 400 .*invalid event/);
    assert.doesNotMatch(err.message, /XXXXSECRET|SECRETKEY/);
    return true;
  });
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const down = createWebhookChannel({
    id: 'down',
    type: 'webhook',
    url: `http://127.0.0.1:${port}/x`,
    timeoutMs: 10_000,
    source: 's',
  });
  await assert.rejects(down.send(msg()), /webhook channel 'down': connection failed: ECONNREFUSED/);
});
