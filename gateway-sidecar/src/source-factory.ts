/**
 * Builds the tag source and writer for the source kinds beyond the simulator and the CSV replay:
 * OPC UA (`opcua`), MQTT Sparkplug B (`sparkplug`) and sensor_data CDC (`cdc`), from their config
 * sections (docs/sources.md "Wiring", docs/cdc.md). main.ts calls it for those kinds; it is part of
 * the composition root (only main.ts uses it). `nats` is not a source of the single sidecar: the
 * scale-out runs `src/cli/scale-worker.ts` instances (docs/scale-out.md).
 */
import type { Config } from './config.ts';
import { toEquipment } from './config.ts';
import { buildEquipmentIndex } from './domain/equipment.ts';
import { systemClock, type TagSource, type TagWriter } from './ports.ts';
import { OpcuaTagSource, opcuaSourceOptionsFromConfig } from './adapters/opcua-tag-source.ts';
import { OpcuaTagWriter } from './adapters/opcua-tag-writer.ts';
import { opcuaConnectionFromConfig } from './adapters/opcua-connection.ts';
import { SparkplugTagSource } from './adapters/sparkplug-tag-source.ts';
import { SparkplugTagWriter } from './adapters/sparkplug-tag-writer.ts';
import { PgCdcTagSource } from './adapters/pg-cdc-tag-source.ts';
import { ReadOnlyTagWriter } from './adapters/read-only-tag-writer.ts';

export interface BuiltSource {
  readonly source: TagSource;
  readonly writer: TagWriter;
}

/** undefined for the kinds main.ts builds itself (simulator, replay); throws for `nats`. */
export function buildExtraSource(config: Config): BuiltSource | undefined {
  const s = config.source;
  if (s.kind === 'opcua') {
    const index = buildEquipmentIndex(toEquipment(config));
    const mappedTags = [
      ...index.sensorsByTag.keys(),
      ...index.setpointsByTag.keys(),
      ...index.modeTags.keys(),
    ];
    return {
      source: new OpcuaTagSource(
        opcuaSourceOptionsFromConfig(s.opcua, { dataDir: config.dataDir, mappedTags, clock: systemClock }),
      ),
      writer: new OpcuaTagWriter(opcuaConnectionFromConfig(s.opcua, config.dataDir)),
    };
  }
  if (s.kind === 'sparkplug') {
    const writer = new SparkplugTagWriter(s.sparkplug);
    // Connected at start so the BIRTHs are known before the first write; a failure here is retried by the writer.
    void writer.connect().catch(() => undefined);
    return { source: new SparkplugTagSource({ ...s.sparkplug, clock: systemClock }), writer };
  }
  if (s.kind === 'cdc') {
    if (config.database.url === undefined)
      throw new Error(
        'source.kind "cdc" needs database.url (the database whose mining_operations.sensor_data is captured)',
      );
    return {
      source: new PgCdcTagSource({
        url: config.database.url,
        equipment: buildEquipmentIndex(toEquipment(config)),
        consumer: s.cdc.consumer,
        maxBatch: s.cdc.maxBatch,
        gapGraceMs: s.cdc.gapGraceMs,
        reconnectMs: { first: 200, max: s.cdc.reconnectMaxDelayMs },
        clock: systemClock,
      }),
      writer: new ReadOnlyTagWriter('the source is sensor_data CDC (no tag to write to)'),
    };
  }
  if (s.kind === 'nats')
    throw new Error(
      'source.kind "nats" is served by the scale-out workers (src/cli/scale-worker.ts, docs/scale-out.md), not by the single sidecar',
    );
  return undefined;
}
