/**
 * The shipped artefact: builds both variants twice (same inputs, same bytes), then checks the
 * module as a gateway and as independent tools see it: unzip -l, module.xml structure per target,
 * jar contents (our classes only, never the SDK stubs), class-file levels, signatures with the
 * openssl CLI, and verify() catching tampering, unsigned and dangling entries.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DESIGNER_HOOK, GATEWAY_HOOK, jarNames, REQUIRED_IGNITION } from '../src/assemble.ts';
import { MODULE_ID } from '../src/constants.ts';
import { ELEMENT_ORDER, parseModuleXml } from '../src/module-xml.ts';
import { parseProperties } from '../src/signing/java-properties.ts';
import { readPkcs7Certificates } from '../src/signing/pkcs7.ts';
import { verifyModule } from '../src/verify.ts';
import { readZip } from '../src/zip/zip-reader.ts';
import { writeZip } from '../src/zip/zip-writer.ts';
import { buildForTest, type TestBuild } from './fixtures/build.ts';

function sh(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function modl(b: TestBuild, target: '8.1' | '8.3'): Buffer {
  const m = b.result.modules.find((x) => x.target === target);
  assert.ok(m, `no ${target} module`);
  return readFileSync(m.path);
}

function entry(entries: ReturnType<typeof readZip>, name: string): Buffer {
  const e = entries.find((x) => x.name === name);
  assert.ok(e, `${name} missing`);
  return e.data;
}

describe('npm run build:modl output', () => {
  let first: TestBuild;
  let second: TestBuild;
  before(() => {
    first = buildForTest({ outName: 'a' });
    // Same key, separate output and work dirs: everything else is rebuilt from scratch.
    second = buildForTest({ tmp: first.tmp, keyDir: first.keyDir, outName: 'b' });
  });
  after(() => rmSync(first.tmp, { recursive: true, force: true }));

  test('two builds from the same inputs give byte-identical modules (signed and unsigned)', () => {
    assert.equal(first.result.modules.length, 2);
    for (const [i, m] of first.result.modules.entries()) {
      const other = second.result.modules[i];
      assert.ok(other);
      assert.equal(other.sha256, m.sha256, `${m.fileName} differs between builds`);
      assert.ok(readFileSync(m.unsignedPath).equals(readFileSync(other.unsignedPath)));
      assert.equal(createHash('sha256').update(readFileSync(m.path)).digest('hex'), m.sha256);
    }
    assert.deepEqual(
      first.result.modules.map((m) => m.fileName),
      ['ai-equipment-monitor-0.1.0-8.1.modl', 'ai-equipment-monitor-0.1.0-8.3.modl'],
    );
    assert.equal(first.result.signingSource, 'dev-generated');
    assert.equal(second.result.signingSource, 'dev-reused');
  });

  test('unzip lists the entries, sorted, all dated 1980-01-01, and tests them clean', () => {
    const jars = jarNames('0.1.0');
    for (const m of first.result.modules) {
      const listing = sh('unzip', ['-l', m.path]);
      const rows = [...listing.matchAll(/^\s*\d+\s+(\S+)\s+(\S+)\s+(\S+)$/gm)].map((x) => ({
        date: x[1],
        name: x[3],
      }));
      assert.deepEqual(
        rows.map((n) => n.name),
        [
          jars.common,
          jars.designer,
          jars.gateway,
          'certificates.p7b',
          'license.html',
          'module.xml',
          'signatures.properties',
        ],
      );
      assert.ok(
        rows.every((n) => n.date === '1980-01-01'),
        listing,
      );
      sh('unzip', ['-tq', m.path]);
    }
  });

  for (const target of ['8.1', '8.3'] as const) {
    test(`module.xml for ${target}: documented order, ids, hooks, Perspective dependency, jars with scopes`, () => {
      const els = parseModuleXml(entry(readZip(modl(first, target)), 'module.xml').toString('utf8'));
      const order = els.map((e) => e.name).filter((n, i, a) => a.indexOf(n) === i);
      assert.deepEqual(order, [...ELEMENT_ORDER]);
      const text = (n: string): string | undefined => els.find((e) => e.name === n)?.text;
      assert.equal(text('id'), MODULE_ID);
      assert.equal(text('version'), '0.1.0');
      assert.equal(text('requiredIgnitionVersion'), REQUIRED_IGNITION[target]);
      assert.equal(text('freeModule'), 'true');
      assert.equal(text('license'), 'license.html');
      assert.deepEqual(
        els.filter((e) => e.name === 'hook').map((e) => [e.attrs.scope, e.text]),
        [
          ['G', GATEWAY_HOOK],
          ['D', DESIGNER_HOOK],
        ],
      );
      const dep = els.filter((e) => e.name === 'depends');
      assert.equal(dep.length, 1);
      assert.equal(dep[0]?.text, 'com.inductiveautomation.perspective');
      assert.equal(dep[0]?.attrs.scope, 'GD');
      // `required` exists only from 8.3 on (notes §1.2).
      assert.equal(dep[0]?.attrs.required, target === '8.3' ? 'true' : undefined);
      const jars = jarNames('0.1.0');
      assert.deepEqual(
        els.filter((e) => e.name === 'jar').map((e) => [e.text, e.attrs.scope]),
        [
          [jars.common, 'GD'],
          [jars.designer, 'D'],
          [jars.gateway, 'G'],
        ],
      );
    });

    test(`jars for ${target}: only our classes (no SDK stubs), bytecode level, servlet API, bundle under mounted/`, () => {
      const entries = readZip(modl(first, target));
      const major = target === '8.1' ? 55 : 61; // Java 11 / Java 17 class files
      const jars = jarNames('0.1.0');
      const contents: Record<string, string[]> = {};
      for (const jar of Object.values(jars)) {
        const data = entry(entries, jar);
        const inner = readZip(data);
        const files = inner.filter((e) => !e.isDirectory).map((e) => e.name);
        contents[jar] = files;
        for (const e of inner.filter((x) => x.name.endsWith('.class'))) {
          assert.match(
            e.name,
            /^com\/aimonitor\/ignition\/(common|gateway|designer)\//,
            `${jar} holds ${e.name}`,
          );
          assert.equal(e.data.readUInt32BE(0), 0xcafebabe);
          assert.equal(e.data.readUInt16BE(6), major, `${e.name} class-file version`);
        }
        // The JDK's own `jar` tool reads what our writer wrote.
        const path = join(first.tmp, `${target}-${jar}`);
        writeFileSync(path, data);
        const listed = sh('jar', ['tf', path])
          .trim()
          .split('\n')
          .filter((n) => !n.endsWith('/'));
        assert.deepEqual(listed.sort(), [...files].sort());
      }
      const gatewayFiles = contents[jars.gateway] ?? [];
      assert.ok(gatewayFiles.includes('mounted/aimonitor-components.js'));
      assert.ok(gatewayFiles.includes('mounted/aimonitor-components.css'));
      assert.ok(
        !gatewayFiles.some((n) => n.includes('stand-in') || n.includes('vendor/') || n.endsWith('.map')),
      );
      assert.ok(contents[jars.common]?.includes('aimonitor/props.json'));
      // The servlet API differs per target: javax on 8.1, jakarta on 8.3 (notes §3.7).
      const hook = entry(
        readZip(entry(entries, jars.gateway)),
        'com/aimonitor/ignition/gateway/AiMonitorGatewayHook.class',
      ).toString('latin1');
      assert.ok(hook.includes(`${target === '8.1' ? 'javax' : 'jakarta'}/servlet/http/HttpServletResponse`));
      assert.ok(!hook.includes(`${target === '8.1' ? 'jakarta' : 'javax'}/servlet`));
      const web = entry(readZip(entry(entries, jars.common)), 'aimonitor/web-resources.properties').toString(
        'utf8',
      );
      assert.equal(web, 'js.0=aimonitor-components.js\ncss.0=aimonitor-components.css\n');
    });
  }

  test('openssl verifies every entry signature and prints the certificate from certificates.p7b', () => {
    const entries = readZip(modl(first, '8.1'));
    const dir = join(first.tmp, 'openssl');
    mkdirSync(dir, { recursive: true });
    const p7 = join(dir, 'certificates.p7b');
    writeFileSync(p7, entry(entries, 'certificates.p7b'));
    const printed = sh('openssl', ['pkcs7', '-inform', 'DER', '-in', p7, '-print_certs']);
    assert.match(printed, /subject=.*AI Equipment Monitor development signing/);
    const certPem = join(dir, 'cert.pem');
    writeFileSync(certPem, printed.slice(printed.indexOf('-----BEGIN CERTIFICATE-----')));
    const pub = join(dir, 'pub.pem');
    writeFileSync(pub, sh('openssl', ['x509', '-in', certPem, '-pubkey', '-noout']));
    const sigText = entry(entries, 'signatures.properties').toString('latin1');
    assert.equal(sigText.split('\n')[0], '#Tue Jan 01 00:00:00 UTC 1980');
    const sigs = parseProperties(sigText);
    const signedFiles = entries.filter(
      (e) => e.name !== 'signatures.properties' && e.name !== 'certificates.p7b',
    );
    assert.equal(sigs.size, signedFiles.length);
    for (const e of signedFiles) {
      const file = join(dir, e.name);
      writeFileSync(file, e.data);
      writeFileSync(`${file}.sig`, Buffer.from(sigs.get(`/${e.name}`) ?? '', 'base64'));
      assert.match(
        sh('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', `${file}.sig`, file]),
        /Verified OK/,
      );
    }
  });

  test('verify() names a tampered file, an unsigned file and a dangling signature', () => {
    const good = modl(first, '8.3');
    assert.deepEqual(verifyModule(good).problems, []);
    const entries = readZip(good).map((e) => ({ name: e.name, data: e.data }));
    const tampered = entries.map((e) =>
      e.name === 'license.html' ? { ...e, data: Buffer.from('changed') } : e,
    );
    assert.ok(
      verifyModule(writeZip(tampered)).problems.some((p) =>
        p.includes('signature of license.html does not verify'),
      ),
    );
    const extra = [...entries, { name: 'doc/extra.txt', data: Buffer.from('x') }];
    assert.ok(verifyModule(writeZip(extra)).problems.includes('doc/extra.txt is not signed'));
    const r = verifyModule(writeZip(entries.filter((e) => e.name !== 'license.html')));
    assert.ok(
      r.problems.includes("signature '/license.html' names no file in the module"),
      r.problems.join('\n'),
    );
    assert.ok(r.problems.some((p) => p.includes("names license 'license.html', which is not in the module")));
    const unsigned = entries.filter(
      (e) => e.name !== 'signatures.properties' && e.name !== 'certificates.p7b',
    );
    assert.deepEqual(verifyModule(writeZip(unsigned), { requireSigned: false }).problems, []);
    assert.ok(verifyModule(writeZip(unsigned)).problems[0]?.startsWith('the module is not signed'));
  });

  test('MODL_SIGNING_KEY / MODL_SIGNING_CHAIN: a CA-issued leaf signs, the chain goes in leaf first', () => {
    const dir = join(first.tmp, 'ca');
    mkdirSync(dir, { recursive: true });
    const o = (args: string[]): string => sh('openssl', args, dir);
    o([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Test Code Signing CA',
    ]);
    o([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'leaf.key',
      '-out',
      'leaf.csr',
      '-subj',
      '/CN=Plant Engineering Code Signing',
    ]);
    writeFileSync(join(dir, 'ext.cnf'), 'keyUsage=digitalSignature\nextendedKeyUsage=codeSigning\n');
    o([
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'leaf.pem',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    ]);
    writeFileSync(
      join(dir, 'chain.pem'),
      readFileSync(join(dir, 'leaf.pem'), 'utf8') + readFileSync(join(dir, 'ca.pem'), 'utf8'),
    );
    const env = { MODL_SIGNING_KEY: join(dir, 'leaf.key'), MODL_SIGNING_CHAIN: join(dir, 'chain.pem') };
    const b = buildForTest({ tmp: first.tmp, env, outName: 'ca-signed' });
    assert.equal(b.result.signingSource, 'env');
    const signed = modl(b, '8.1');
    const r = verifyModule(signed);
    assert.deepEqual(r.problems, []);
    assert.equal(r.signerSubject, 'CN=Plant Engineering Code Signing');
    const subjects = readPkcs7Certificates(entry(readZip(signed), 'certificates.p7b')).map(
      (d) => new X509Certificate(d).subject,
    );
    assert.deepEqual(subjects, ['CN=Plant Engineering Code Signing', 'CN=Test Code Signing CA']);
    assert.ok(createPublicKey(readFileSync(join(dir, 'leaf.key'))));
    // A key that does not belong to the leaf certificate is refused before anything is signed.
    const wrong = { MODL_SIGNING_KEY: join(dir, 'ca.key'), MODL_SIGNING_CHAIN: join(dir, 'chain.pem') };
    assert.throws(
      () => buildForTest({ tmp: first.tmp, env: wrong, outName: 'wrong' }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'MB_ERR_SIGNING_KEY');
        assert.match(err.message, /does not belong to the private key/);
        return true;
      },
    );
    assert.throws(
      () =>
        buildForTest({ tmp: first.tmp, env: { MODL_SIGNING_KEY: join(dir, 'leaf.key') }, outName: 'half' }),
      /set both MODL_SIGNING_KEY/,
    );
  });
});
