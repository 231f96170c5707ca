// @vitest-environment node
/**
 * A panel opened or reloaded during an emergency shows it: the store loads the latest critical
 * alerts (GET /api/critical-alerts, through HttpSseTransport against a real HTTP server on port 0,
 * and alerts-request through DelegateTransport), keeps those of the last hour, merges them with the
 * alerts pushed live (newest first, at most three) and names a failed load.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsObject } from '@inductiveautomation/perspective-client';
import { DELEGATE_MESSAGES, DelegateTransport } from '../src/api/delegate-transport.ts';
import { HttpSseTransport } from '../src/api/http-sse-transport.ts';
import { TransportError } from '../src/api/transport.ts';
import type { CriticalAlert } from '../src/api/types.ts';
import { RecommendationsDelegate } from '../src/components/recommendations/recommendations.delegate.ts';
import {
  ALERT_LOOKBACK_MS,
  RecommendationsStore,
} from '../src/components/recommendations/recommendations.store.ts';

const NOW = Date.parse('2026-11-29T10:00:00Z');
const servers: Server[] = [];

function alert(id: string, minutesAgo: number): CriticalAlert {
  return {
    id,
    equipmentId: 'REACTOR_01',
    sensorType: 'temperature',
    tagPath: '[default]Reactors/R01/Temperature',
    value: 101,
    threshold: 95,
    level: 'emergency',
    message: `EMERGENCY: REACTOR_01 temperature 101 °C >= emergency level 95 °C (${id})`,
    at: new Date(NOW - minutesAgo * 60_000).toISOString(),
  };
}

/** A sidecar-shaped HTTP server: an empty list, and `alerts` (or a status) for /critical-alerts. */
async function serve(
  alerts: () => { status: number; body: unknown },
): Promise<{ url: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    res.setHeader('content-type', 'application/json');
    if (req.url?.startsWith('/api/critical-alerts')) {
      const a = alerts();
      res.statusCode = a.status;
      res.end(JSON.stringify(a.body));
      return;
    }
    res.end(JSON.stringify({ items: [], total: 0 }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, seen };
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('critical alerts on load', () => {
  it('HttpSseTransport asks GET /api/critical-alerts?limit=N with the bearer token and parses the items', async () => {
    const { url, seen } = await serve(() => ({ status: 200, body: { items: [alert('a1', 2)] } }));
    const t = new HttpSseTransport({ baseUrl: url, token: () => 'tok-viewer-0123456789' });
    const items = await t.criticalAlerts(3);
    expect(items.map((a) => a.id)).toEqual(['a1']);
    expect(seen[0]?.url).toBe('/api/critical-alerts?limit=3');
    expect(seen[0]?.headers.authorization).toBe('Bearer tok-viewer-0123456789');
  });

  it('refuses a malformed answer with an error naming it', async () => {
    const { url } = await serve(() => ({ status: 200, body: { items: [{ id: 'x' }] } }));
    const t = new HttpSseTransport({ baseUrl: url });
    const err = await t.criticalAlerts(3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).message).toMatch(/critical alert has no string 'equipmentId'/);
  });

  it('the store shows the latest alerts of the last hour, newest first, merged with live ones, at most three', async () => {
    const { url } = await serve(() => ({
      status: 200,
      body: { items: [alert('recent', 5), alert('older', 40), alert('stale', 61)] },
    }));
    const store = new RecommendationsStore({
      transport: new HttpSseTransport({ baseUrl: url }),
      pageSize: 25,
      now: () => NOW,
    });
    // One alert arrived live before the load answered (the stream can be faster than the query).
    store.applyChange({ seq: 9, type: 'critical_alert', alert: alert('live', 1) });
    await store.load();
    await until(() => store.state.alerts.length === 3, 'three alerts');
    expect(store.state.alerts.map((a) => a.id)).toEqual(['live', 'recent', 'older']);
    expect(ALERT_LOOKBACK_MS).toBe(60 * 60_000);

    // The same alert pushed again after the load is not shown twice.
    store.applyChange({ seq: 10, type: 'critical_alert', alert: alert('recent', 5) });
    expect(store.state.alerts.filter((a) => a.id === 'recent')).toHaveLength(1);
  });

  it('drops alerts older than the hour: an old emergency does not look current', async () => {
    const { url } = await serve(() => ({ status: 200, body: { items: [alert('stale', 61)] } }));
    const store = new RecommendationsStore({
      transport: new HttpSseTransport({ baseUrl: url }),
      pageSize: 25,
      now: () => NOW,
    });
    await store.load();
    await new Promise((r) => setTimeout(r, 50));
    expect(store.state.alerts).toEqual([]);
    expect(store.state.notice).toBeNull();
  });

  it('a failed alert load is named in a notice and the list still loads', async () => {
    const { url } = await serve(() => ({
      status: 503,
      body: { code: 'SC_ERR_DB_UNAVAILABLE', message: 'database unavailable' },
    }));
    const store = new RecommendationsStore({
      transport: new HttpSseTransport({ baseUrl: url }),
      pageSize: 25,
      now: () => NOW,
    });
    await store.load();
    await until(() => store.state.notice !== null, 'the notice');
    expect(store.state.notice?.text).toMatch(
      /^Recent critical alerts could not be loaded: database unavailable/,
    );
    expect(store.state.notice?.code).toBe('SC_ERR_DB_UNAVAILABLE');
    expect(store.state.loaded).toBe(true);
    expect(store.state.loadError).toBeNull();
  });

  it('DelegateTransport sends alerts-request {limit} and resolves with the alerts-response items', async () => {
    const received: [string, JsObject][] = [];
    const gateway = (name: string, payload: JsObject, reply: (n: string, p: JsObject) => void): void => {
      received.push([name, payload]);
      if (name === DELEGATE_MESSAGES.ALERTS_REQUEST)
        reply(DELEGATE_MESSAGES.ALERTS_RESPONSE, {
          requestId: payload.requestId,
          items: [alert('d1', 3)],
        } as unknown as JsObject);
    };
    const component = { __gateway: gateway, addressPathString: '0:1' };
    const delegate = new RecommendationsDelegate(component);
    const t = new DelegateTransport(delegate, { requestTimeoutMs: 500 });
    const items = await t.criticalAlerts(3);
    expect(items.map((a) => a.id)).toEqual(['d1']);
    expect(received[0]).toEqual(['alerts-request', { requestId: 'r1', limit: 3 }]);
  });
});
