// The rate limit protects the API and the page, not the monitoring endpoints: with every operator
// session arriving from the gateway's one address, a saturated /api must not turn /health and
// /metrics into 429s (monitoring would then report a healthy sidecar as down and could not read
// the refusal counter that explains the 429s).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SidecarMetrics } from '../../src/adapters/prom-metrics.ts';
import { auth, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';

const counted = new SidecarMetrics();
let h: ApiHarness;
before(async () => {
  h = await startApiHarness({ rateLimitPerMinute: 3, overrides: { refusalObserver: counted } });
});
after(() => h.close());

const status = async (path: string, headers: Record<string, string> = {}): Promise<number> => {
  const res = await fetch(`${h.base}${path}`, { headers });
  await res.arrayBuffer();
  return res.status;
};

test('/health and /metrics neither use up the limit nor are refused once /api is limited', async () => {
  for (let i = 0; i < 5; i++) {
    assert.equal(await status('/health'), 200, `health ${i}`);
    assert.equal(await status('/metrics'), 200, `metrics ${i}`);
  }
  for (let i = 0; i < 3; i++) assert.equal(await status('/api/me', auth(TOKENS.viewer)), 200, `api ${i}`);
  assert.equal(await status('/api/me', auth(TOKENS.viewer)), 429);
  assert.equal(await status('/health'), 200);
  assert.equal(await status('/metrics'), 200);
  assert.equal(
    counted.httpRefusals.get({ route: '/api/*', status: '429', code: 'SC_ERR_API_RATE_LIMITED' }),
    1,
  );
  assert.equal(counted.httpRefusals.total(), 1, 'nothing but the one 429 was refused');
  assert.equal(await status('/api/me', auth(TOKENS.viewer)), 429, 'the API stays limited');
});
