/**
 * Notification wiring in the composition root: the real sidecar process replays a recording with
 * an emergency temperature; with notifications enabled and a webhook channel routed for critical
 * alerts, the local receiver gets the page and /api/notifications lists it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../fixtures/pg.ts';
import { startSidecar, writeConfig, type SidecarProcess } from '../fixtures/sidecar-process.ts';

const TOKEN = 'notify-viewer-token-0123456789';

describe('notifications wired by main.ts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'main-notify-'));
  let db: TestDatabase | undefined;
  let sidecar: SidecarProcess | undefined;
  let receiver: Server | undefined;
  after(async () => {
    await sidecar?.kill('SIGTERM');
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an emergency crossing pages the configured webhook', async () => {
    const bodies: unknown[] = [];
    let got: () => void = () => undefined;
    const arrived = new Promise<void>((r) => (got = r));
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        bodies.push(JSON.parse(body) as unknown);
        res.writeHead(200).end('{}');
        got();
      });
    });
    await new Promise<void>((r) => (receiver as Server).listen(0, '127.0.0.1', () => r()));
    const port = ((receiver as Server).address() as AddressInfo).port;

    const t0 = Date.UTC(2026, 0, 7, 9, 0, 0);
    const lines = ['timestamp,Reactors/R01/Temperature'];
    for (let i = 0; i < 60; i++) lines.push(`${new Date(t0 + i * 1000).toISOString()},${i === 40 ? 97 : 70}`);
    const csv = join(dir, 'alert.csv');
    writeFileSync(csv, lines.join('\n'));
    db = await createTestDatabase('sc_main_notify');
    sidecar = await startSidecar({
      configFile: writeConfig({
        dataDir: join(dir, 'data'),
        database: { url: db.url },
        source: { kind: 'replay', replay: { file: csv, pace: 'fast', tagPrefix: '[default]' } },
        auth: { tokens: [{ token: TOKEN, user: 'v', roles: ['viewer'] }] },
        notifications: {
          enabled: true,
          channels: [{ id: 'ops-hook', type: 'webhook', url: `http://127.0.0.1:${port}/hook` }],
          routes: [
            { id: 'all-critical', channels: ['ops-hook'], minSeverity: 'high', kinds: ['critical_alert'] },
          ],
          tickMs: 200,
        },
      }),
    });
    await arrived;
    assert.match(JSON.stringify(bodies[0]), /REACTOR_01/);
    const list = await fetch(`${sidecar.baseUrl}/api/notifications`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(list.status, 200);
    const items = ((await list.json()) as { items: { kind: string; equipmentId: string }[] }).items;
    assert.ok(items.some((i) => i.kind === 'critical_alert' && i.equipmentId === 'REACTOR_01'));
  });
});
