/**
 * `certificates.p7b`: a PKCS#7 SignedData with certificates only ("degenerate" form: no content,
 * no signer infos), DER encoded — the shape `openssl crl2pkcs7 -nocrl` and keytool write, and
 * what module-signer copies into the module. node-forge is used only for ASN.1 structure.
 */
import forge from 'node-forge';

const { asn1 } = forge;
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_DATA = '1.2.840.113549.1.7.1';

function oid(id: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
}

/** Builds a certs-only PKCS#7 from DER certificates (leaf first, as given). */
export function buildCertsOnlyPkcs7(certsDer: readonly Buffer[]): Buffer {
  const certs = certsDer.map((der) => asn1.fromDer(forge.util.createBuffer(der.toString('binary'))));
  const signedData = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, String.fromCharCode(1)),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, []),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [oid(OID_DATA)]),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, certs),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, []),
  ]);
  const contentInfo = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    oid(OID_SIGNED_DATA),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [signedData]),
  ]);
  return Buffer.from(asn1.toDer(contentInfo).getBytes(), 'binary');
}

/** Returns the DER certificates inside a PKCS#7 SignedData (DER or PEM), in file order. */
export function readPkcs7Certificates(p7: Buffer): Buffer[] {
  const text = p7.toString('latin1');
  const der = text.includes('-----BEGIN')
    ? Buffer.from(text.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '').replace(/\s+/g, ''), 'base64')
    : p7;
  let root: forge.asn1.Asn1;
  try {
    root = asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  } catch (err) {
    throw new Error(`certificates.p7b is not DER/PEM ASN.1: ${(err as Error).message}`, { cause: err });
  }
  const parts = root.value as forge.asn1.Asn1[];
  const typeOid = parts[0] ? asn1.derToOid(forge.util.createBuffer(parts[0].value as string)) : '';
  if (typeOid !== OID_SIGNED_DATA)
    throw new Error(`certificates.p7b is not PKCS#7 SignedData (content type ${typeOid || 'missing'})`);
  const signedData = ((parts[1]?.value as forge.asn1.Asn1[])[0]?.value ?? []) as forge.asn1.Asn1[];
  const certSet = signedData.find((p) => p.tagClass === asn1.Class.CONTEXT_SPECIFIC && p.type === 0);
  if (!certSet) return [];
  return (certSet.value as forge.asn1.Asn1[]).map((c) => Buffer.from(asn1.toDer(c).getBytes(), 'binary'));
}
