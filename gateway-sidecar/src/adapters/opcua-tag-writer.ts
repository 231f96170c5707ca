/**
 * TagWriter over OPC UA: write the Value attribute with the variable's own data type, check the
 * status code, then read back and compare. A server-side refusal (BadNotWritable,
 * BadUserAccessDenied, BadOutOfRange…) is returned as ok:false with the status code name. Uses its
 * own session, opened on first use and re-opened after a failure, so writes do not depend on the
 * source's subscription being healthy.
 */
import { AttributeIds, DataType, type ClientSession, type DataValue, type OPCUAClient } from 'node-opcua';
import type { TagWriter, WriteOutcome } from '../ports.ts';
import {
  createOpcuaClient,
  resolveNamespaceIndex,
  tagNodeId,
  userIdentity,
  type OpcuaConnectionOptions,
} from './opcua-connection.ts';

/** Float read-back tolerance: a Float (32-bit) tag cannot hold every double exactly. */
const FLOAT_REL_TOLERANCE = 1e-6;

export class OpcuaTagWriter implements TagWriter {
  readonly #o: OpcuaConnectionOptions;
  #conn: Promise<{ client: OPCUAClient; session: ClientSession; ns: number }> | undefined;

  constructor(o: OpcuaConnectionOptions) {
    this.#o = o;
  }

  #connect(): Promise<{ client: OPCUAClient; session: ClientSession; ns: number }> {
    this.#conn ??= (async () => {
      const client = createOpcuaClient(this.#o, 'ignition-ai-sidecar-writer');
      try {
        await client.connect(this.#o.endpointUrl);
        const session = await client.createSession(userIdentity(this.#o));
        const ns = await resolveNamespaceIndex(session, this.#o);
        return { client, session, ns };
      } catch (err) {
        await client.disconnect();
        throw err;
      }
    })();
    this.#conn.catch(() => {
      this.#conn = undefined;
    });
    return this.#conn;
  }

  async #readValue(tagPath: string): Promise<DataValue> {
    const { session, ns } = await this.#connect();
    return session.read({ nodeId: tagNodeId(ns, tagPath), attributeId: AttributeIds.Value });
  }

  async read(tagPath: string): Promise<number | undefined> {
    try {
      const dv = await this.#readValue(tagPath);
      const v: unknown = dv.value?.value;
      return dv.statusCode.name.startsWith('Good') && typeof v === 'number' ? v : undefined;
    } catch {
      return undefined;
    }
  }

  async write(tagPath: string, value: number): Promise<WriteOutcome> {
    if (!Number.isFinite(value)) return { ok: false, reason: `value ${value} is not a finite number` };
    try {
      const { session, ns } = await this.#connect();
      const before = await this.#readValue(tagPath);
      if (!before.statusCode.name.startsWith('Good')) {
        return {
          ok: false,
          reason: `cannot read '${tagPath}' before writing: ${before.statusCode.name}`,
          statusCode: before.statusCode.name,
        };
      }
      const dataType = before.value.dataType === DataType.Null ? DataType.Double : before.value.dataType;
      const previous = typeof before.value.value === 'number' ? (before.value.value as number) : undefined;
      const status = await session.write({
        nodeId: tagNodeId(ns, tagPath),
        attributeId: AttributeIds.Value,
        value: { value: { dataType, value } },
      });
      if (!status.name.startsWith('Good')) {
        return {
          ok: false,
          reason: `server refused the write to '${tagPath}': ${status.name}`,
          statusCode: status.name,
        };
      }
      const after = await this.#readValue(tagPath);
      const readBack: unknown = after.value?.value;
      const matches =
        typeof readBack === 'number' &&
        (readBack === value ||
          (dataType === DataType.Float &&
            Math.abs(readBack - value) <= Math.abs(value) * FLOAT_REL_TOLERANCE));
      if (!after.statusCode.name.startsWith('Good') || !matches) {
        return {
          ok: false,
          reason: `read-back of '${tagPath}' gave ${String(readBack)} (${after.statusCode.name}), expected ${value}`,
          statusCode: after.statusCode.name,
        };
      }
      return { ok: true, readBack: readBack as number, previous };
    } catch (err) {
      // The session is suspect after a transport error: drop it so the next write reconnects.
      await this.close();
      return { ok: false, reason: `OPC UA write to '${tagPath}' failed: ${(err as Error).message}` };
    }
  }

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    if (!conn) return;
    const opened = await conn.catch(() => undefined);
    if (!opened) return;
    try {
      await opened.session.close();
    } catch {
      // The server may be gone already; the disconnect below still frees the socket.
    }
    await opened.client.disconnect();
  }
}
