// A 404 names the path the client asked for, with the /api prefix (the router used to strip it:
// "no route for GET /nothing-here" for a request to /api/nothing-here).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';

let h: ApiHarness;
before(async () => {
  h = await startApiHarness();
});
after(() => h.close());

test('an unknown /api route is named in full, without its query string', async () => {
  const res = await fetch(`${h.base}/api/nothing-here?x=1`, { headers: auth(TOKENS.viewer) });
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), {
    code: 'SC_ERR_API_NOT_FOUND',
    message: 'no route for GET /api/nothing-here',
  });
});
