/** Java Properties escaping as module-signer's Properties.store writes it, and the reader. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { javaDateString, parseProperties, storeProperties } from '../src/signing/java-properties.ts';

test('keys escape space, = : # ! and backslash; values escape only a leading space; non-ASCII becomes \\uXXXX', () => {
  const text = storeProperties(
    new Map([
      ['/a b=c:d#e!f\\g', ' lead and inner space'],
      ['/tab\tnl\n', 'é€'],
    ]),
    new Date(Date.UTC(2026, 10, 29, 7, 5, 9)),
  );
  assert.equal(
    text,
    '#Sun Nov 29 07:05:09 UTC 2026\n/a\\ b\\=c\\:d\\#e\\!f\\\\g=\\ lead and inner space\n/tab\\tnl\\n=\\u00E9\\u20AC\n',
  );
});

test('the reader returns what was stored, for random ASCII and non-ASCII keys and values', () => {
  const alphabet = 'ab =:#!\\\t\né€/. ';
  for (let round = 0; round < 200; round++) {
    const map = new Map<string, string>();
    for (let i = 0; i < 5; i++) {
      const pick = (n: number): string =>
        Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
      map.set(`/${pick(1 + (i % 7))}${i}`, pick(i * 3));
    }
    assert.deepEqual(parseProperties(storeProperties(map, new Date(0))), map);
  }
});

test('the reader handles comments, colon/space separators and line continuations', () => {
  const parsed = parseProperties('# c\n! c\n  key1 : v1\nkey2 v2\nkey3=a\\\n    b\n');
  assert.deepEqual(
    [...parsed],
    [
      ['key1', 'v1'],
      ['key2', 'v2'],
      ['key3', 'ab'],
    ],
  );
});

test('javaDateString matches java.util.Date.toString in UTC', () => {
  assert.equal(javaDateString(new Date(Date.UTC(1980, 0, 1))), 'Tue Jan 01 00:00:00 UTC 1980');
});
