/**
 * MQTT connection settings shared by the Sparkplug source and writer, and the rebirth request
 * (rate-limited per edge node so a burst of gaps sends one NCMD, not hundreds).
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { SparkplugTracker } from './sparkplug-tracker.ts';

export interface SparkplugConnectionOptions {
  readonly brokerUrl: string;
  readonly groupId: string;
  /** Edge node id to follow, or '+' for every node of the group. */
  readonly edgeNodeId: string;
  /** Tag path = tagPrefix + group/edge/[device/]metric. */
  readonly tagPrefix: string;
  readonly clientId?: string;
  readonly username?: string;
  readonly password?: string;
}

export async function connectSparkplug(o: SparkplugConnectionOptions, role: string): Promise<MqttClient> {
  const client = await connectAsync(o.brokerUrl, {
    clientId: o.clientId ?? `ignition-ai-${role}-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
    clean: true,
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
    ...(o.username !== undefined ? { username: o.username, password: o.password } : {}),
  });
  await client.subscribeAsync(`spBv1.0/${o.groupId}/+/${o.edgeNodeId}/#`, { qos: 0 });
  return client;
}

export class RebirthRequester {
  readonly #last = new Map<string, number>();
  readonly #minIntervalMs: number;
  constructor(minIntervalMs = 2_000) {
    this.#minIntervalMs = minIntervalMs;
  }
  /** Publishes NCMD Node Control/Rebirth=true unless one went to this node very recently. */
  request(client: MqttClient, groupId: string, edge: string, nowMs: number): boolean {
    const last = this.#last.get(edge);
    if (last !== undefined && nowMs - last < this.#minIntervalMs) return false;
    this.#last.set(edge, nowMs);
    client.publish(`spBv1.0/${groupId}/NCMD/${edge}`, Buffer.from(SparkplugTracker.rebirthRequest(nowMs)), {
      qos: 0,
    });
    return true;
  }
}
