/**
 * Checks a `.modl` as a gateway would have to accept it: a well-formed manifest in the documented
 * element order whose jars, hooks and license are present, and (when signed) a signature for
 * every file, each valid for the leaf certificate of certificates.p7b, and no signature for a
 * file that is not there.
 */
import { verify as verifySignature, X509Certificate } from 'node:crypto';
import { ELEMENT_ORDER, parseModuleXml, type ParsedElement } from './module-xml.ts';
import { parseProperties } from './signing/java-properties.ts';
import { readPkcs7Certificates } from './signing/pkcs7.ts';
import { CERTIFICATES_ENTRY, SIGNATURES_ENTRY } from './signing/sign-module.ts';
import { readZip, type ZipEntry } from './zip/zip-reader.ts';

export interface VerifyReport {
  readonly ok: boolean;
  readonly problems: string[];
  readonly moduleId?: string;
  readonly version?: string;
  readonly signed: boolean;
  readonly signedEntries: number;
  readonly signerSubject?: string;
  readonly entries: string[];
}

function checkManifest(elements: ParsedElement[], byName: Map<string, ZipEntry>, problems: string[]): void {
  let rank = -1;
  for (const e of elements) {
    const r = (ELEMENT_ORDER as readonly string[]).indexOf(e.name);
    if (r < 0) problems.push(`module.xml: unknown element <${e.name}>`);
    else if (r < rank)
      problems.push(`module.xml: <${e.name}> is out of the documented order (${ELEMENT_ORDER.join(', ')})`);
    else rank = r;
  }
  const one = (name: string): string | undefined => {
    const found = elements.filter((e) => e.name === name);
    if (found.length !== 1)
      problems.push(`module.xml: expected exactly one <${name}>, found ${found.length}`);
    return found[0]?.text;
  };
  for (const name of [
    'name',
    'id',
    'version',
    'requiredIgnitionVersion',
    'freeModule',
    'requiredFrameworkVersion',
  ])
    one(name);
  const license = elements.find((e) => e.name === 'license');
  if (license && !byName.has(license.text))
    problems.push(`module.xml names license '${license.text}', which is not in the module`);
  const jars = elements.filter((e) => e.name === 'jar');
  if (jars.length === 0) problems.push('module.xml lists no <jar>');
  for (const j of jars) {
    if (!/^[AGCD]+$/.test(j.attrs.scope ?? ''))
      problems.push(`module.xml: jar ${j.text} has scope '${j.attrs.scope ?? ''}', expected letters of AGCD`);
    if (!byName.has(j.text)) problems.push(`module.xml lists jar ${j.text}, which is not in the module`);
  }
  const hookScopes = new Set<string>();
  for (const h of elements.filter((e) => e.name === 'hook')) {
    const s = h.attrs.scope ?? '';
    if (!/^[GCD]$/.test(s))
      problems.push(`module.xml: hook ${h.text} needs exactly one scope letter, got '${s}'`);
    if (hookScopes.has(s)) problems.push(`module.xml: more than one hook for scope ${s}`);
    hookScopes.add(s);
    const classFile = `${h.text.replace(/\./g, '/')}.class`;
    const inScopeJars = jars.filter((j) => (j.attrs.scope ?? '').includes(s) || j.attrs.scope === 'A');
    const found = inScopeJars.some((j) => {
      const jar = byName.get(j.text);
      try {
        return jar ? readZip(jar.data).some((x) => x.name === classFile) : false;
      } catch {
        return false; // an unreadable jar is reported by the jar check below
      }
    });
    if (!found) problems.push(`module.xml: hook class ${h.text} is in no jar of scope ${s}`);
  }
  for (const j of jars) {
    const jar = byName.get(j.text);
    if (!jar) continue;
    try {
      readZip(jar.data);
    } catch (err) {
      problems.push(`${j.text}: ${(err as Error).message}`);
    }
  }
}

function checkSignatures(
  entries: ZipEntry[],
  byName: Map<string, ZipEntry>,
  problems: string[],
): { count: number; subject?: string } {
  const sigFile = byName.get(SIGNATURES_ENTRY);
  const certFile = byName.get(CERTIFICATES_ENTRY);
  if (!sigFile || !certFile) {
    problems.push(`the module is not signed: ${!sigFile ? SIGNATURES_ENTRY : CERTIFICATES_ENTRY} is missing`);
    return { count: 0 };
  }
  let certs: X509Certificate[];
  try {
    certs = readPkcs7Certificates(certFile.data).map((der) => new X509Certificate(der));
  } catch (err) {
    problems.push(`${CERTIFICATES_ENTRY}: ${(err as Error).message}`);
    return { count: 0 };
  }
  const leaf = certs[0];
  if (!leaf) {
    problems.push(`${CERTIFICATES_ENTRY} holds no certificate`);
    return { count: 0 };
  }
  for (let i = 0; i + 1 < certs.length; i++) {
    const [child, parent] = [certs[i] as X509Certificate, certs[i + 1] as X509Certificate];
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      problems.push(
        `${CERTIFICATES_ENTRY}: certificate ${i + 1} is not issued by certificate ${i + 2} (chain must be leaf first)`,
      );
    }
  }
  const signatures = parseProperties(sigFile.data.toString('latin1'));
  let count = 0;
  for (const e of entries) {
    if (e.isDirectory || e.name === SIGNATURES_ENTRY || e.name === CERTIFICATES_ENTRY) continue;
    const sig = signatures.get(`/${e.name}`);
    if (sig === undefined) {
      problems.push(`${e.name} is not signed`);
      continue;
    }
    if (
      !/^[A-Za-z0-9+/]+={0,2}$/.test(sig) ||
      !verifySignature('sha256', e.data, leaf.publicKey, Buffer.from(sig, 'base64'))
    ) {
      problems.push(
        `the signature of ${e.name} does not verify against ${leaf.subject.replace(/\n/g, ', ')}`,
      );
      continue;
    }
    count++;
  }
  for (const key of signatures.keys()) {
    const name = key.startsWith('/') ? key.slice(1) : key;
    if (!key.startsWith('/') || !byName.has(name) || byName.get(name)?.isDirectory)
      problems.push(`signature '${key}' names no file in the module`);
  }
  return { count, subject: leaf.subject.replace(/\n/g, ', ') };
}

export function verifyModule(
  modl: Buffer,
  options: { requireSigned: boolean } = { requireSigned: true },
): VerifyReport {
  const problems: string[] = [];
  let entries: ZipEntry[];
  try {
    entries = readZip(modl);
  } catch (err) {
    return { ok: false, problems: [(err as Error).message], signed: false, signedEntries: 0, entries: [] };
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  let elements: ParsedElement[] = [];
  const manifest = byName.get('module.xml');
  if (!manifest) problems.push('module.xml is missing');
  else {
    try {
      elements = parseModuleXml(manifest.data.toString('utf8'));
      checkManifest(elements, byName, problems);
    } catch (err) {
      problems.push(`module.xml: ${(err as Error).message}`);
    }
  }
  const signed = byName.has(SIGNATURES_ENTRY) || byName.has(CERTIFICATES_ENTRY);
  let sig: { count: number; subject?: string } = { count: 0 };
  if (signed || options.requireSigned) sig = checkSignatures(entries, byName, problems);
  const text = (n: string): string | undefined => elements.find((e) => e.name === n)?.text;
  return {
    ok: problems.length === 0,
    problems,
    moduleId: text('id'),
    version: text('version'),
    signed,
    signedEntries: sig.count,
    signerSubject: sig.subject,
    entries: entries.map((e) => e.name),
  };
}
