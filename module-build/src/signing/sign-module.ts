/**
 * Signs an assembled module the way module-signer does (ignition-sdk-notes.md §1.6): every
 * non-directory entry N gets `/N = Base64(SHA256withRSA(bytes of N))` in `signatures.properties`,
 * and the certificate chain goes in as `certificates.p7b`. RSA signing uses node:crypto.
 */
import { sign } from 'node:crypto';
import { ModuleBuildError } from '../build-error.ts';
import { readZip } from '../zip/zip-reader.ts';
import { writeZip, type ZipEntryInput } from '../zip/zip-writer.ts';
import { storeProperties } from './java-properties.ts';
import { buildCertsOnlyPkcs7 } from './pkcs7.ts';
import type { SigningMaterial } from './signing-material.ts';

export const SIGNATURES_ENTRY = 'signatures.properties';
export const CERTIFICATES_ENTRY = 'certificates.p7b';
/** The comment date in signatures.properties; fixed so a rebuild gives the same bytes. */
export const SIGNATURE_DATE = new Date(Date.UTC(1980, 0, 1));

export function signModule(unsignedModl: Buffer, material: SigningMaterial): Buffer {
  const entries = readZip(unsignedModl);
  const clash = entries.find((e) => e.name === SIGNATURES_ENTRY || e.name === CERTIFICATES_ENTRY);
  if (clash)
    throw new ModuleBuildError('MB_ERR_ZIP', `the module is already signed (it holds ${clash.name})`);
  const signatures = new Map<string, string>();
  for (const e of entries) {
    if (e.isDirectory) continue;
    signatures.set(`/${e.name}`, sign('sha256', e.data, material.privateKey).toString('base64'));
  }
  const out: ZipEntryInput[] = entries.map((e) => ({ name: e.name, data: e.data }));
  out.push({
    name: SIGNATURES_ENTRY,
    data: Buffer.from(storeProperties(signatures, SIGNATURE_DATE), 'latin1'),
  });
  out.push({ name: CERTIFICATES_ENTRY, data: buildCertsOnlyPkcs7(material.chainDer) });
  return writeZip(out);
}
