/** The zip writer/reader on their own: round trip, determinism, Java's reader, and refusals. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readZip } from '../src/zip/zip-reader.ts';
import { withDirectoryEntries, writeZip } from '../src/zip/zip-writer.ts';

const tmp = mkdtempSync(join(tmpdir(), 'zip-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sample = [
  { name: 'b/text.txt', data: Buffer.from('hello hello hello hello hello\n'.repeat(50)) },
  { name: 'a.bin', data: randomBytes(4096) }, // incompressible: stored
  { name: 'empty.txt', data: Buffer.alloc(0) },
  { name: 'ü-name.txt', data: Buffer.from('utf-8 name') },
];

test('round trip: sorted, contents and methods as expected', () => {
  const zip = writeZip(sample);
  const back = readZip(zip);
  assert.deepEqual(
    back.map((e) => e.name),
    ['a.bin', 'b/text.txt', 'empty.txt', 'ü-name.txt'],
  );
  for (const s of sample) assert.ok(back.find((e) => e.name === s.name)?.data.equals(s.data), s.name);
  assert.equal(back.find((e) => e.name === 'a.bin')?.method, 0);
  assert.equal(back.find((e) => e.name === 'b/text.txt')?.method, 8);
});

test('same entries in any order give the same bytes', () => {
  const a = writeZip(sample);
  const b = writeZip([...sample].reverse());
  assert.ok(a.equals(b));
});

test('unzip and java.util.zip (jar tf) read it, including directory entries', () => {
  const path = join(tmp, 'sample.zip');
  writeFileSync(path, writeZip(withDirectoryEntries(sample)));
  const t = spawnSync('unzip', ['-tq', path], { encoding: 'utf8' });
  assert.equal(t.status, 0, t.stdout + t.stderr);
  const j = spawnSync('jar', ['tf', path], { encoding: 'utf8' });
  assert.equal(j.status, 0, j.stderr);
  assert.deepEqual(j.stdout.trim().split('\n'), ['a.bin', 'b/', 'b/text.txt', 'empty.txt', 'ü-name.txt']);
});

test('refuses duplicate names, absolute or parent paths, and non-empty directories', () => {
  assert.throws(() => writeZip([sample[0]!, sample[0]!]), /appears twice/);
  assert.throws(() => writeZip([{ name: '/etc/x', data: Buffer.alloc(1) }]), /relative forward-slash path/);
  assert.throws(() => writeZip([{ name: 'a/../b', data: Buffer.alloc(1) }]), /without '\.\.'/);
  assert.throws(() => writeZip([{ name: 'd/', data: Buffer.alloc(1) }]), /must be empty/);
});

test('the reader reports a damaged archive and a CRC mismatch', () => {
  const zip = writeZip([{ name: 'x.txt', data: Buffer.from('abcdefgh'.repeat(2)) }]);
  assert.throws(() => readZip(zip.subarray(0, 10)), /too short|no end-of-central/);
  const bad = Buffer.from(zip);
  bad.writeUInt32LE((bad.readUInt32LE(14) ^ 1) >>> 0, 14); // local header CRC is not used; flip the central one
  const cen = bad.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  bad.writeUInt32LE((bad.readUInt32LE(cen + 16) ^ 1) >>> 0, cen + 16);
  assert.throws(() => readZip(bad), /fails its CRC-32 check/);
});
