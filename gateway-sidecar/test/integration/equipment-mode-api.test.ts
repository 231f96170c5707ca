/**
 * PUT /api/equipment/:id/mode over HTTP on the real API stack: only the known operating modes are
 * accepted (stored canonical); anything else ('BROKEN', the typo 'MAINTENACE') is a 400 with the
 * documented error shape naming the field and the allowed values, counted as a refusal, and
 * changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';

let h: ApiHarness;
const refusals: { route: string; status: number; code: string }[] = [];
before(async () => {
  h = await startApiHarness({
    overrides: {
      refusalObserver: { refused: (route, status, code) => refusals.push({ route, status, code }) },
    },
  });
});
after(async () => {
  await h.close();
});

async function putMode(
  id: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${h.base}/api/equipment/${id}/mode`, {
    method: 'PUT',
    headers: auth(TOKENS.operator, { 'content-type': 'application/json' }),
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function modes(): Promise<Record<string, string>> {
  const res = await fetch(`${h.base}/api/modes`, { headers: auth(TOKENS.viewer) });
  return ((await res.json()) as { modes: Record<string, string> }).modes;
}

test('an unknown mode or a typo is a 400 naming the field and the allowed values, counted, and stores nothing', async () => {
  const before = await modes();
  for (const bad of ['BROKEN', 'MAINTENACE', 'RUN;DROP', '']) {
    const r = await putMode('REACTOR_01', { mode: bad });
    assert.equal(r.status, 400, bad);
    assert.deepEqual(r.body, {
      code: 'SC_ERR_API_VALIDATION',
      message: 'mode: must be one of RUN, MAINTENANCE, STARTUP',
    });
  }
  const notText = await putMode('REACTOR_01', { mode: 3 });
  assert.equal(notText.status, 400);
  assert.match(String(notText.body.message), /^mode: /);
  assert.deepEqual(await modes(), before, 'no mode was stored');
  const counted = refusals.filter((x) => x.route === '/api/equipment/:id/mode');
  assert.equal(counted.length, 5);
  assert.ok(counted.every((x) => x.status === 400 && x.code === 'SC_ERR_API_VALIDATION'));
});

test('the known modes are accepted in any spelling, stored canonical, and MAINTENANCE suppresses', async () => {
  const m = await putMode('REACTOR_01', { mode: 'maintenance' });
  assert.equal(m.status, 200);
  assert.deepEqual(m.body, { equipmentId: 'REACTOR_01', mode: 'MAINTENANCE' });
  assert.equal((await modes()).REACTOR_01, 'MAINTENANCE');
  const suppressed = h.recs.kpis().suppressed.mode;
  assert.equal(await h.raise(Date.now()), 0, 'nothing raised in MAINTENANCE');
  assert.equal(h.recs.kpis().suppressed.mode, suppressed + 1);

  const s = await putMode('PUMP_02', { mode: 'Start-up' });
  assert.deepEqual(s.body, { equipmentId: 'PUMP_02', mode: 'STARTUP' });
  const r = await putMode('REACTOR_01', { mode: ' run ' });
  assert.deepEqual(r.body, { equipmentId: 'REACTOR_01', mode: 'RUN' });
  assert.deepEqual(
    { REACTOR_01: (await modes()).REACTOR_01, PUMP_02: (await modes()).PUMP_02 },
    { REACTOR_01: 'RUN', PUMP_02: 'STARTUP' },
  );
});
