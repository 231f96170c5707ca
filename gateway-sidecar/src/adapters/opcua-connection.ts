/**
 * Shared OPC UA plumbing for the tag source and the tag writer: client options from config
 * (security mode/policy, user identity, PKI folder), session creation, and resolving the tag
 * namespace index from the server's NamespaceArray, because Ignition does not promise a fixed index.
 */
import {
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  UserTokenType,
  type ClientSession,
  type UserIdentityInfo,
} from 'node-opcua';
import { ERRORS, SidecarError } from '../errors.ts';

export interface OpcuaConnectionOptions {
  readonly endpointUrl: string;
  readonly securityMode: 'None' | 'Sign' | 'SignAndEncrypt';
  readonly securityPolicy: 'None' | 'Basic256Sha256';
  readonly userName?: string;
  readonly password?: string;
  /** Tag namespace by URI (preferred: survives server changes) ... */
  readonly namespaceUri?: string;
  /** ... or by fixed index. */
  readonly namespaceIndex?: number;
  /** Own certificate and the trust lists (own/, trusted/, rejected/). */
  readonly pkiDir: string;
  /** Trust a server certificate not yet in pki/trusted (development only). */
  readonly trustUnknownServerCertificate: boolean;
  readonly reconnectMaxDelayMs: number;
}

/**
 * Builds a client; node-opcua's own reconnection (with backoff up to reconnectMaxDelayMs) is on.
 * `initialRetries` bounds the retries of the first connect (default: endless). With a bound, a
 * server that is down makes `connect` reject with the socket error (ECONNREFUSED…), so the caller
 * can report it and retry itself; once connected, a lost connection is still re-established
 * endlessly by node-opcua (its reconnection does not use this bound, only needs it above 0).
 */
export function createOpcuaClient(
  o: OpcuaConnectionOptions,
  applicationName: string,
  initialRetries: number = Number.MAX_SAFE_INTEGER,
): OPCUAClient {
  const clientCertificateManager = new OPCUACertificateManager({
    rootFolder: o.pkiDir,
    automaticallyAcceptUnknownCertificate: o.trustUnknownServerCertificate,
  });
  return OPCUAClient.create({
    applicationName,
    clientCertificateManager,
    securityMode: MessageSecurityMode[o.securityMode],
    securityPolicy: o.securityPolicy === 'None' ? SecurityPolicy.None : SecurityPolicy.Basic256Sha256,
    endpointMustExist: false,
    keepSessionAlive: true,
    requestedSessionTimeout: 60_000,
    defaultSecureTokenLifetime: 600_000,
    connectionStrategy: {
      initialDelay: 200,
      maxDelay: o.reconnectMaxDelayMs,
      maxRetry: Math.max(1, initialRetries),
    },
  });
}

export function userIdentity(o: OpcuaConnectionOptions): UserIdentityInfo {
  if (o.userName !== undefined) {
    return { type: UserTokenType.UserName, userName: o.userName, password: o.password ?? '' };
  }
  return { type: UserTokenType.Anonymous };
}

/** Resolves the namespace index of the tag namespace; throws SC_ERR_SOURCE_CONNECT naming the URI if absent. */
export async function resolveNamespaceIndex(
  session: ClientSession,
  o: OpcuaConnectionOptions,
): Promise<number> {
  if (o.namespaceUri === undefined) return o.namespaceIndex ?? 2;
  const array = await session.readNamespaceArray();
  const idx = array.indexOf(o.namespaceUri);
  if (idx < 0) {
    throw new SidecarError(
      ERRORS.SOURCE_CONNECT,
      `OPC UA server ${o.endpointUrl} has no namespace '${o.namespaceUri}' (it has: ${array.join(', ')})`,
    );
  }
  return idx;
}

/** NodeId string of an Ignition tag path in the tag namespace: ns=<idx>;s=[provider]Path/Tag. */
export function tagNodeId(namespaceIndex: number, tagPath: string): string {
  return `ns=${namespaceIndex};s=${tagPath}`;
}

/** Maps an OPC UA status code name to our quality. */
export function qualityOf(statusName: string): 'good' | 'uncertain' | 'bad' {
  if (statusName.startsWith('Good')) return 'good';
  if (statusName.startsWith('Uncertain')) return 'uncertain';
  return 'bad';
}

/** The `source.opcua` section of the configuration, as parsed by config.ts. */
export interface OpcuaConfigSection {
  readonly endpointUrl: string;
  readonly securityMode: 'None' | 'Sign' | 'SignAndEncrypt';
  readonly securityPolicy: 'None' | 'Basic256Sha256';
  readonly userName?: string | undefined;
  readonly password?: string | undefined;
  readonly namespaceUri?: string | undefined;
  readonly namespaceIndex: number;
  readonly pkiDir?: string | undefined;
  readonly trustUnknownServerCertificate: boolean;
  readonly reconnectMaxDelayMs: number;
}

/** Connection options from config; the PKI folder defaults to <dataDir>/pki/opcua. */
export function opcuaConnectionFromConfig(c: OpcuaConfigSection, dataDir: string): OpcuaConnectionOptions {
  return {
    endpointUrl: c.endpointUrl,
    securityMode: c.securityMode,
    securityPolicy: c.securityPolicy,
    ...(c.userName !== undefined ? { userName: c.userName, password: c.password ?? '' } : {}),
    ...(c.namespaceUri !== undefined ? { namespaceUri: c.namespaceUri } : {}),
    namespaceIndex: c.namespaceIndex,
    pkiDir: c.pkiDir ?? `${dataDir}/pki/opcua`,
    trustUnknownServerCertificate: c.trustUnknownServerCertificate,
    reconnectMaxDelayMs: c.reconnectMaxDelayMs,
  };
}
