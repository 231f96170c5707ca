/**
 * Shared pieces for the API fuzz tests: the error catalogue read from docs/errors.md (so a code the
 * docs do not list fails the test), hostile strings, a request helper that checks the invariants
 * every response must hold, a logger that counts the API's "request refused" lines, and the real
 * API stack they all run against (`useFuzzedApi`).
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { pino, type Logger } from 'pino';
import type { HttpDeps } from '../../src/adapters/http/create-http-app.ts';
import { auth, startApiHarness, type ApiHarness } from '../fixtures/api-harness.ts';

/** Cases per property (FUZZ_RUNS overrides). */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

/** code -> HTTP status, from the table in docs/errors.md. */
export function errorCatalogue(): Map<string, number> {
  const text = readFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8');
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^\|\s*`(SC_ERR_[A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|/gm))
    out.set(m[1] as string, Number(m[2]));
  return out;
}

/**
 * Every hostile string carries this marker. It holds a quote and a space, which no identifier
 * pattern of the API accepts, so after a run the marker may appear in the database only inside
 * validated free-text fields (notes, shelve reasons).
 */
export const MARK = "zq'x ";

export const INJECTIONS = [
  "'; DROP TABLE agentic_hmi.agent_recommendations; --",
  "Robert'); DELETE FROM agentic_hmi.recommendation_audit; --",
  '" OR "1"="1',
  "1' OR '1'='1' /*",
  '$1; SELECT pg_sleep(5)',
  '<script>alert(document.cookie)</script>',
  '<img src=x onerror=alert(1)>',
  '"><svg onload=alert(1)>',
  '{{constructor.constructor("return process")()}}',
  '${process.exit(1)}',
  '__proto__',
  '../../../etc/passwd',
  '%00%2e%2e%2f',
  'NaN',
  'Infinity',
  '\u202eevil\u202c',
  'Ｒｅａｃｔｏｒ／Ｒ０１ 温度 🌡️ Reaktör',
  'a'.repeat(5000),
];

/** Hostile strings: the list above, random unicode (including lone surrogates) and control chars. */
export const hostileString: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(...INJECTIONS),
    fc.string({ unit: 'grapheme', maxLength: 60 }),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ maxLength: 60 }),
  )
  .map((s) => MARK + s);

/** Values of every JSON-ish kind, plus numbers JSON cannot carry (they serialise to null). */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hostileString,
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 1e308, Number.MAX_SAFE_INTEGER + 2, -1, 0, 2 ** 31),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

export interface Observed {
  status: number;
  body: unknown;
  headers: Headers;
}

export interface ResponseLedger {
  readonly catalogue: Map<string, number>;
  /** 4xx responses seen, by code. */
  readonly refusals: Map<string, number>;
  successes: number;
}

export function newLedger(): ResponseLedger {
  return { catalogue: errorCatalogue(), refusals: new Map(), successes: 0 };
}

/**
 * Sends one request and asserts the invariants: no 5xx, a 4xx carries `{code, message}` with a code
 * from docs/errors.md whose documented status matches, and API responses carry the security headers.
 */
export async function call(
  ledger: ResponseLedger,
  base: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string } = {},
  expect: { apiHeaders?: boolean } = {},
): Promise<Observed> {
  const res = await fetch(base + path, { method, headers: init.headers, body: init.body });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('application/json')) body = JSON.parse(text);
  const where = `${method} ${path.slice(0, 200)} -> ${res.status} ${text.slice(0, 300)}`;
  assert.ok(res.status < 500, `no 5xx: ${where}`);
  assert.equal(res.headers.get('x-powered-by'), null, where);
  if (path.startsWith('/api') && expect.apiHeaders !== false) {
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', where);
    assert.equal(
      res.headers.get('content-security-policy'),
      "default-src 'none'; frame-ancestors 'none'",
      where,
    );
    assert.equal(res.headers.get('x-frame-options'), 'DENY', where);
    assert.equal(res.headers.get('cache-control'), 'no-store', where);
  }
  if (res.status >= 400) {
    assert.ok(body !== null && typeof body === 'object', `error body is JSON: ${where}`);
    const { code, message } = body as { code?: unknown; message?: unknown };
    assert.equal(typeof code, 'string', where);
    assert.equal(typeof message, 'string', where);
    assert.ok((message as string).length > 0, where);
    assert.equal(
      ledger.catalogue.get(code as string),
      res.status,
      `code ${String(code)} is in docs/errors.md with status ${res.status}: ${where}`,
    );
    ledger.refusals.set(code as string, (ledger.refusals.get(code as string) ?? 0) + 1);
  } else {
    ledger.successes++;
  }
  return { status: res.status, body, headers: res.headers };
}

/** A pino logger (level info) that counts the error middleware's "request refused" lines by code. */
export function countingLogger(): { logger: Logger; refused: Map<string, number> } {
  const refused = new Map<string, number>();
  let buf = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = JSON.parse(buf.slice(0, nl)) as { msg?: string; code?: string };
        buf = buf.slice(nl + 1);
        if (line.msg === 'request refused' && typeof line.code === 'string')
          refused.set(line.code, (refused.get(line.code) ?? 0) + 1);
      }
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), refused };
}

export function sum(m: Map<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}

/** Headers of a JSON request sent with `token`. */
export function jsonAuth(token: string): Record<string, string> {
  return auth(token, { 'content-type': 'application/json' });
}

/** The real API stack a fuzz suite runs against, with the ledger of what its requests saw. */
export interface FuzzedApi {
  /** Counts the API's "request refused" log lines by code. */
  readonly counting: { logger: Logger; refused: Map<string, number> };
  readonly h: ApiHarness;
  readonly ledger: ResponseLedger;
  /** `call` against this API, recorded in its ledger. */
  call(
    method: string,
    path: string,
    init?: { headers?: Record<string, string>; body?: string },
    expect?: { apiHeaders?: boolean },
  ): Promise<Observed>;
}

/**
 * Registers the suite's before/after: the API harness (its logger counted, `overrides` added) and a
 * fresh ledger. Call inside `describe`, before the suite's own hooks: `h` and `ledger` are there from
 * them on.
 */
export function useFuzzedApi(overrides: Partial<HttpDeps> = {}): FuzzedApi {
  const counting = countingLogger();
  let h: ApiHarness | undefined;
  let ledger: ResponseLedger | undefined;
  before(async () => {
    h = await startApiHarness({ overrides: { logger: counting.logger, ...overrides } });
    ledger = newLedger();
  });
  after(async () => {
    await h?.close();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the fuzzed API is not started yet (use it inside a hook or test)');
    return v;
  };
  return {
    counting,
    get h() {
      return started(h);
    },
    get ledger() {
      return started(ledger);
    },
    call: (method, path, init, expect) => call(started(ledger), started(h).base, method, path, init, expect),
  };
}
