/** The LLM advisor against a local HTTP server speaking chat completions: success, timeout, 500, garbage. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { LlmAdvisor, parseCompletion } from '../../src/adapters/llm-advisor.ts';
import type { AdvisorContext } from '../../src/ports.ts';
import { createLogger } from '../../src/log.ts';
import { forEachDatabase } from '../fixtures/db-targets.ts';
import {
  buildHarness,
  coolingEvent,
  feedSetpoint,
  operator,
  REACTOR_THROUGHPUT,
  T0,
  TestClock,
} from '../fixtures/recommendation-harness.ts';
import { dedupKey, recommendationIdFor } from '../../src/domain/dedup.ts';

type Mode = 'ok' | 'slow' | 'status500' | 'garbage' | 'empty';
let mode: Mode = 'ok';
const seen: {
  auth: string | undefined;
  body: { model: string; messages: { role: string; content: string }[] };
}[] = [];
let server: Server;
let url = '';

function handle(req: IncomingMessage, res: ServerResponse): void {
  let raw = '';
  req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
  req.on('end', () => {
    if (req.url !== '/v1/chat/completions' || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    seen.push({ auth: req.headers.authorization, body: JSON.parse(raw) });
    const reply = (body: string, status = 200) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    if (mode === 'slow')
      return; // never answers; the advisor's timeout must end the request
    else if (mode === 'status500') reply('{"error":"boom"}', 500);
    else if (mode === 'garbage') reply('{"choices": [ not json');
    else if (mode === 'empty') reply(JSON.stringify({ choices: [] }));
    else
      reply(
        JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: '  Likely fouled heat exchanger; check coolant ΔT first.  ',
              },
            },
          ],
        }),
      );
  });
}

before(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const ctx: AdvisorContext = {
  equipmentId: 'REACTOR_01',
  equipmentKind: 'reactor',
  issueType: 'cooling_degradation',
  playbookText: 'Cooling degradation on REACTOR_01: reduce throughput 20 %',
  explanation: [{ feature: 'z_score', sensorType: 'temperature', tagPath: 'T', value: 4.2, weight: 0.6 }],
  recentReadings: [
    {
      tagPath: '[default]Reactors/R01/Temperature',
      sensorType: 'temperature',
      value: 86.5,
      at: '2026-03-01T10:00:00.000Z',
      score: 0.91,
    },
  ],
  operatorNotes: ['last time the strainer was blocked'],
};
const silent = createLogger({ level: 'silent' });

test('success: Bearer key, model, context in the prompt; result cached for cacheTtlSec', async () => {
  mode = 'ok';
  seen.length = 0;
  const clock = new TestClock();
  const advisor = new LlmAdvisor(
    { url, model: 'databricks-llama', apiKey: 'sk-test-123', timeoutMs: 10_000, cacheTtlSec: 300 },
    clock,
    silent,
  );
  assert.equal(await advisor.advise(ctx), 'Likely fouled heat exchanger; check coolant ΔT first.');
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.auth, 'Bearer sk-test-123');
  assert.equal(seen[0]!.body.model, 'databricks-llama');
  const user = seen[0]!.body.messages.find((m) => m.role === 'user')!.content;
  assert.match(user, /\[default\]Reactors\/R01\/Temperature \(temperature\) = 86.5/);
  assert.match(user, /last time the strainer was blocked/);
  assert.match(user, /temperature.z_score = 4.2/);
  clock.advance(299_000);
  assert.equal(
    await advisor.advise({ ...ctx, recentReadings: [] }),
    'Likely fouled heat exchanger; check coolant ΔT first.',
  );
  assert.equal(seen.length, 1, 'served from the cache');
  clock.advance(2_000);
  await advisor.advise(ctx);
  assert.equal(seen.length, 2, 'cache expired');
  assert.deepEqual(advisor.stats(), {
    requests: 2,
    cacheHits: 1,
    successes: 2,
    failures: { timeout: 0, network: 0, http_status: 0, bad_response: 0 },
  });
});

test('timeout, HTTP 500, garbage JSON, empty choices and an unreachable server all give undefined and are counted', async () => {
  // Generous timeouts where no timeout is being tested, so a loaded machine cannot turn them into one.
  const advisor = new LlmAdvisor(
    { url, model: 'm', timeoutMs: 10_000, cacheTtlSec: 300 },
    new TestClock(),
    silent,
  );
  for (const m of ['status500', 'garbage', 'empty'] as const) {
    mode = m;
    assert.equal(await advisor.advise({ ...ctx, issueType: m }), undefined, m);
  }
  assert.deepEqual(advisor.stats().failures, { timeout: 0, network: 0, http_status: 1, bad_response: 2 });
  assert.equal(seen.at(-1)?.auth, undefined, 'no key configured: no Authorization header');
  mode = 'slow';
  const impatient = new LlmAdvisor(
    { url, model: 'm', timeoutMs: 300, cacheTtlSec: 300 },
    new TestClock(),
    silent,
  );
  assert.equal(await impatient.advise(ctx), undefined);
  assert.equal(impatient.stats().failures.timeout, 1);
  const dead = new LlmAdvisor(
    { url: 'http://127.0.0.1:1/v1', model: 'm', timeoutMs: 10_000, cacheTtlSec: 300 },
    new TestClock(),
    silent,
  );
  assert.equal(await dead.advise(ctx), undefined);
  assert.equal(dead.stats().failures.network, 1);
  mode = 'ok';
});

test('parseCompletion: fixed and randomised bodies never throw and yield text only from choices[0].message.content', () => {
  assert.equal(parseCompletion({ choices: [{ message: { content: 'x' } }] }), 'x');
  assert.equal(parseCompletion({ choices: [{ message: { content: null } }] }), undefined);
  assert.equal(parseCompletion({ choices: [{ message: { content: '   ' } }] }), undefined);
  assert.equal(parseCompletion('text'), undefined);
  assert.equal(parseCompletion(null), undefined);
  assert.equal(parseCompletion({ choices: [{ message: { content: 'abcdef' } }] }, 4), 'abc…');
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const out = parseCompletion(v);
      return out === undefined || (typeof out === 'string' && out.length > 0);
    }),
    { numRuns: 2_000 },
  );
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), (s) => {
      const out = parseCompletion({ choices: [{ message: { content: s } }] });
      return s.trim() === ''
        ? out === undefined
        : out === s.trim().slice(0, 1000) || (out?.endsWith('…') ?? false);
    }),
  );
});

forEachDatabase((db) => {
  test('the engine stores the advice beside the playbook text; on failure the playbook text stands', async () => {
    mode = 'ok';
    const clock = new TestClock();
    const advisor = new LlmAdvisor({ url, model: 'm', timeoutMs: 10_000, cacheTtlSec: 300 }, clock, silent);
    const h = await buildHarness(db.pool(), {}, advisor);
    feedSetpoint(h, REACTOR_THROUGHPUT, 60);
    const ts = T0 + 3_000 * 60_000;
    await h.service.onScored(coolingEvent(h, ts));
    await h.service.idle();
    const id = recommendationIdFor(dedupKey('REACTOR_01', 'cooling_degradation', ts, 5));
    const rec = (await h.service.get(id))!;
    assert.match(
      rec.recommendation.text,
      /^Cooling degradation on REACTOR_01: reduce throughput 20 %.*\nAdvisor: Likely fouled heat exchanger/s,
    );
    assert.equal(rec.recommendation.version, 1, 'enrichment does not invalidate decisions');
    assert.equal(rec.history.at(-1)!.action, 'enriched');
    // a decision with a note becomes context for the next similar recommendation
    await h.service.decide(
      id,
      { decision: 'reject', note: 'coolant strainer was blocked', expectedVersion: 1 },
      operator(),
    );
    mode = 'status500';
    const ts2 = ts + 10 * 60_000;
    seen.length = 0;
    await h.service.onScored(coolingEvent(h, ts2));
    await h.service.idle();
    assert.match(seen[0]!.body.messages[1]!.content, /coolant strainer was blocked/);
    const second = (await h.service.get(
      recommendationIdFor(dedupKey('REACTOR_01', 'cooling_degradation', ts2, 5)),
    ))!;
    assert.doesNotMatch(second.recommendation.text, /Advisor:/);
    assert.deepEqual(
      second.history.map((e) => e.action),
      ['created'],
    );
    mode = 'ok';
  });
});
