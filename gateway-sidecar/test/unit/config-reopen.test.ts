/** recommendations.reopenScoreMargin: default 0.1; a bad value fails start-up naming the key and the range. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config.ts';
import { recommendationsOptionsFrom } from '../../src/app/recommendations-options.ts';
import { SidecarError } from '../../src/errors.ts';

test('reopenScoreMargin defaults to 0.1 and reaches the recommendation options', () => {
  assert.equal(parseConfig({}).recommendations.reopenScoreMargin, 0.1);
  const c = parseConfig({ recommendations: { reopenScoreMargin: 0.25 } });
  assert.equal(recommendationsOptionsFrom(c).reopenScoreMargin, 0.25);
});

test('a bad reopenScoreMargin is a clear config error naming the key', () => {
  for (const [bad, why] of [
    [1.5, /must be at most 1/],
    [-0.2, /must be at least 0/],
    ['0.1', /must be a number in \[0, 1\]/],
  ] as const) {
    assert.throws(
      () => parseConfig({ recommendations: { reopenScoreMargin: bad } }),
      (err: unknown) => {
        assert.ok(err instanceof SidecarError);
        assert.equal(err.code, 'SC_ERR_CONFIG_INVALID');
        assert.match(err.message, /recommendations\.reopenScoreMargin/);
        assert.match(err.message, why);
        return true;
      },
    );
  }
});
