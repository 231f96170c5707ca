/**
 * Where the signing key and certificate chain come from.
 *
 * - `MODL_SIGNING_KEY`: path to a PEM RSA private key (PKCS#8 or PKCS#1), outside the repository;
 *   `MODL_SIGNING_KEY_PASSWORD` if it is encrypted.
 * - `MODL_SIGNING_CHAIN`: path to the certificate chain, leaf first: a PEM bundle or a `.p7b`
 *   (DER or PEM). A `.pfx` is converted with openssl first (docs/install-ignition.md).
 *
 * Without them, a development key and a self-signed code-signing certificate are generated once
 * under `module-build/.keys/` (gitignored) and reused, so development builds are reproducible.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import forge from 'node-forge';
import { ModuleBuildError } from '../build-error.ts';
import { readPkcs7Certificates } from './pkcs7.ts';

export interface SigningMaterial {
  readonly privateKey: KeyObject;
  /** DER certificates, leaf first. */
  readonly chainDer: readonly Buffer[];
  /** Where they came from, for the build log. */
  readonly source: 'env' | 'dev-generated' | 'dev-reused';
  readonly description: string;
}

function pemBlocks(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64'));
}

export function readChainFile(path: string): Buffer[] {
  const buf = readFileSync(path);
  const text = buf.toString('latin1');
  const certs = text.includes('-----BEGIN CERTIFICATE-----')
    ? pemBlocks(text, 'CERTIFICATE')
    : readPkcs7Certificates(buf);
  if (certs.length === 0) throw new ModuleBuildError('MB_ERR_SIGNING_KEY', `${path} holds no certificate`);
  return certs;
}

function checkMaterial(privateKey: KeyObject, chainDer: readonly Buffer[], where: string): void {
  if (privateKey.asymmetricKeyType !== 'rsa') {
    // module-signer refuses anything but RSA ("no RSA PrivateKey found"), notes §1.6.
    throw new ModuleBuildError(
      'MB_ERR_SIGNING_KEY',
      `${where}: the signing key must be RSA, got ${privateKey.asymmetricKeyType ?? 'unknown'}`,
    );
  }
  const leaf = new X509Certificate(chainDer[0] as Buffer);
  const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const fromCert = leaf.publicKey.export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(fromCert)) {
    throw new ModuleBuildError(
      'MB_ERR_SIGNING_KEY',
      `${where}: the first certificate (${leaf.subject.replace(/\n/g, ', ')}) does not belong to the private key`,
    );
  }
}

/** Creates a self-signed code-signing certificate; the TBS structure comes from forge, the RSA signature from node:crypto. */
export function createSelfSignedCertificate(privateKey: KeyObject, commonName: string, now: Date): Buffer {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(
    createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(),
  );
  cert.serialNumber = `01${Buffer.from(String(now.getTime())).toString('hex')}`;
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + 5 * 365 * 24 * 3600_000);
  const attrs = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'AI Equipment Monitor (development)' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true },
    { name: 'extKeyUsage', codeSigning: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.signatureOid = forge.pki.oids.sha256WithRSAEncryption as string;
  cert.siginfo.algorithmOid = cert.signatureOid;
  // getTBSCertificate exists in node-forge but is missing from @types/node-forge.
  const pki = forge.pki as typeof forge.pki & {
    getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1;
  };
  const tbs = Buffer.from(forge.asn1.toDer(pki.getTBSCertificate(cert)).getBytes(), 'binary');
  cert.signature = sign('sha256', tbs, privateKey).toString('binary');
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

export function loadSigningMaterial(
  env: NodeJS.ProcessEnv,
  devKeyDir: string,
  now: Date = new Date(),
): SigningMaterial {
  // Relative paths are the user's: `npm run build:modl` runs this in module-build/, npm's INIT_CWD
  // is where the user typed it.
  const userDir = env.INIT_CWD ?? process.cwd();
  const keyPath = env.MODL_SIGNING_KEY ? resolve(userDir, env.MODL_SIGNING_KEY) : undefined;
  const chainPath = env.MODL_SIGNING_CHAIN ? resolve(userDir, env.MODL_SIGNING_CHAIN) : undefined;
  if (keyPath || chainPath) {
    if (!keyPath || !chainPath) {
      throw new ModuleBuildError(
        'MB_ERR_SIGNING_KEY',
        'set both MODL_SIGNING_KEY (PEM RSA private key) and MODL_SIGNING_CHAIN (certificate chain, leaf first), or neither for a development key',
      );
    }
    for (const p of [keyPath, chainPath]) {
      if (!existsSync(p))
        throw new ModuleBuildError('MB_ERR_SIGNING_KEY', `signing file ${p} does not exist`);
    }
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({
        key: readFileSync(keyPath),
        passphrase: env.MODL_SIGNING_KEY_PASSWORD,
      });
    } catch (err) {
      throw new ModuleBuildError(
        'MB_ERR_SIGNING_KEY',
        `cannot read the private key in ${keyPath}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const chainDer = readChainFile(chainPath);
    checkMaterial(privateKey, chainDer, 'MODL_SIGNING_KEY/MODL_SIGNING_CHAIN');
    return { privateKey, chainDer, source: 'env', description: `key ${keyPath}, chain ${chainPath}` };
  }
  const keyFile = join(devKeyDir, 'dev-signing-key.pem');
  const certFile = join(devKeyDir, 'dev-signing-cert.pem');
  if (existsSync(keyFile) && existsSync(certFile)) {
    const privateKey = createPrivateKey(readFileSync(keyFile));
    const chainDer = readChainFile(certFile);
    checkMaterial(privateKey, chainDer, devKeyDir);
    return { privateKey, chainDer, source: 'dev-reused', description: `development key in ${devKeyDir}` };
  }
  mkdirSync(devKeyDir, { recursive: true });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const certDer = createSelfSignedCertificate(privateKey, 'AI Equipment Monitor development signing', now);
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const pem = `-----BEGIN CERTIFICATE-----\n${certDer
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  writeFileSync(certFile, pem);
  return {
    privateKey,
    chainDer: [certDer],
    source: 'dev-generated',
    description: `new development key in ${devKeyDir}`,
  };
}
