/**
 * Keeps the operator and engineer guides honest about what they point at: every relative link and
 * image resolves to a file (and a heading, when it names an anchor), every configuration key path
 * they name in backticks is a row of docs/config.md, and every SC_ code they name is in
 * docs/errors.md. Prose drifts when the code moves; this catches the parts a machine can check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DOCS = fileURLToPath(new URL('../../../docs/', import.meta.url));
const GUIDES = ['operator-guide.md', 'engineer-guide.md'];

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug((m[1] as string).replace(/`/g, ''))),
  );
}

function linksOf(markdown: string): { target: string; image: boolean }[] {
  return [...markdown.matchAll(/(!?)\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => ({
    image: m[1] === '!',
    target: m[2] as string,
  }));
}

const configDoc = readFileSync(join(DOCS, 'config.md'), 'utf8');
const documentedKeys = new Set([...configDoc.matchAll(/^\|\s*`([^`]+)`/gm)].map((m) => m[1] as string));
const topLevel = new Set([...documentedKeys].filter((k) => !/[.[]/.test(k)));
const documentedCodes = new Set(
  [...readFileSync(join(DOCS, 'errors.md'), 'utf8').matchAll(/`(SC_(?:ERR|WRN)_[A-Z0-9_]+)`/g)].map(
    (m) => m[1] as string,
  ),
);

/** Backticked tokens shaped like a key path (`a.b`, `a[].b`, `a.*.b`) whose first segment is a config section. */
function configPathsOf(markdown: string): string[] {
  const tokens = [...markdown.matchAll(/`([^`\s]+)`/g)].map((m) => m[1] as string);
  return tokens.filter(
    (t) =>
      /^[a-z][A-Za-z0-9]*(?:\[\])?(?:\.(?:\*|[A-Za-z][A-Za-z0-9]*)(?:\[\])?)+$/.test(t) &&
      topLevel.has(t.split(/[.[]/)[0] as string),
  );
}

for (const guide of GUIDES) {
  const file = join(DOCS, guide);
  const markdown = readFileSync(file, 'utf8');

  test(`${guide}: every relative link and image resolves`, () => {
    const links = linksOf(markdown).filter((l) => !/^[a-z]+:/i.test(l.target));
    assert.ok(links.length > 3, `expected links in ${guide}`);
    const broken: string[] = [];
    for (const { target } of links) {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const resolved = path === '' ? file : join(dirname(file), decodeURIComponent(path));
      if (!existsSync(resolved)) {
        broken.push(`${target} (no file ${resolved})`);
        continue;
      }
      if (
        anchor !== undefined &&
        resolved.endsWith('.md') &&
        !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)
      ) {
        broken.push(`${target} (no heading #${anchor})`);
      }
    }
    assert.deepEqual(broken, [], `broken links in ${guide}`);
  });

  test(`${guide}: every configuration key path it names is in docs/config.md`, () => {
    const paths = configPathsOf(markdown);
    // The operator guide speaks of behaviour, not keys; the engineer guide is mostly keys.
    if (guide === 'engineer-guide.md')
      assert.ok(paths.length > 20, `expected configuration keys in ${guide}, found ${paths.length}`);
    assert.deepEqual(
      [...new Set(paths.filter((p) => !documentedKeys.has(p)))],
      [],
      `keys in ${guide} missing from docs/config.md`,
    );
  });

  test(`${guide}: every SC_ code it names is in docs/errors.md`, () => {
    const codes = [...markdown.matchAll(/\b(SC_(?:ERR|WRN)_[A-Z0-9_]+)\b/g)].map((m) => m[1] as string);
    assert.deepEqual(
      [...new Set(codes.filter((c) => !documentedCodes.has(c)))],
      [],
      `codes in ${guide} missing from docs/errors.md`,
    );
  });
}

test('the operator guide shows screenshots', () => {
  const images = linksOf(readFileSync(join(DOCS, 'operator-guide.md'), 'utf8')).filter((l) => l.image);
  assert.ok(images.length >= 5, `expected at least 5 screenshots, found ${images.length}`);
});

test('the key-path detector finds known keys and ignores prose', () => {
  // Guards the checks above against passing vacuously if the pattern stops matching.
  const sample =
    '`minConfidence` `recommendations.maxRecommendationsPer10Min` `equipment[].setpoints[].maxStep` `anomalyThresholds.*.warning` `model.json` `thresholds.anomaly`';
  assert.deepEqual(configPathsOf(sample), [
    'recommendations.maxRecommendationsPer10Min',
    'equipment[].setpoints[].maxStep',
    'anomalyThresholds.*.warning',
  ]);
  assert.ok(documentedKeys.has('equipment[].setpoints[].maxStep'));
});
