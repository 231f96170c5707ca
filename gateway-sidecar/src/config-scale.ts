/**
 * The `source.cdc`, `source.nats` and `scale` sections of the configuration schema (docs/cdc.md,
 * docs/scale-out.md). Kept apart only to keep config.ts small; config.ts mounts them, so there is
 * still one schema, validated and documented in docs/config.md like every other key.
 */
import { z } from 'zod';

const natsName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ -');

/** sensor_data change data capture (trigger + LISTEN/NOTIFY; needs database.url). */
export const cdcSchema = z
  .object({
    /** Row in agentic_hmi.cdc_offsets holding this sidecar's last processed id. */
    consumer: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'consumer must be 1-64 of A-Z a-z 0-9 _ . : -')
      .default('sidecar'),
    maxBatch: z.number().int().min(1).max(50_000).default(1_000),
    gapGraceMs: z.number().int().positive().default(2_000),
    reconnectMaxDelayMs: z.number().int().positive().default(10_000),
  })
  .strict();

/** NATS JetStream used by the scale-out workers and the publisher. */
export const natsSchema = z
  .object({
    url: z
      .string()
      .regex(/^(nats|tls|ws|wss):\/\//, 'url must be a nats:// or tls:// URL')
      .default('nats://127.0.0.1:4222'),
    stream: natsName.default('AIMON_EVENTS'),
    subjectPrefix: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
        'subjectPrefix must be dot-separated tokens without wildcards',
      )
      .default('aimon.events'),
    leaseBucket: natsName.default('aimon_leases'),
    replicas: z.number().int().min(1).max(5).default(1),
    ackWaitMs: z.number().int().min(1_000).default(30_000),
  })
  .strict();

export const scaleSchema = z
  .object({
    /** Number of equipment partitions P (fixed for the life of a stream). */
    partitions: z.number().int().min(1).max(4_096).default(12),
    /** Lease owner id; unset: <hostname>-<pid>. */
    instanceId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'instanceId must be 1-64 of A-Z a-z 0-9 _ . -')
      .optional(),
    leaseTtlMs: z.number().int().min(300).default(5_000),
    batchSize: z.number().int().min(1).max(20_000).default(500),
    fetchWaitMs: z.number().int().min(1_000).default(1_000),
    /** Longest time between two checkpoints (sequence + state snapshot) of a busy partition; 0: every batch. */
    checkpointEveryMs: z.number().int().min(0).default(60_000),
    /** Checkpoints per full base snapshot; the others are deltas of what changed (1: every checkpoint full). */
    checkpointFullEvery: z
      .number({ invalid_type_error: 'checkpointFullEvery must be a number of checkpoints' })
      .int('checkpointFullEvery must be a whole number of checkpoints')
      .min(1, 'checkpointFullEvery must be at least 1 (1: every checkpoint is a full snapshot)')
      .max(10_000, 'checkpointFullEvery must be at most 10000 (a takeover applies up to that many deltas)')
      .default(24),
    /** A new full base once the delta chain's bytes would exceed this share of the base's bytes. */
    checkpointChainMaxRatio: z
      .number({ invalid_type_error: 'checkpointChainMaxRatio must be a number (share of the base size)' })
      .gt(0, 'checkpointChainMaxRatio must be greater than 0')
      .max(100, 'checkpointChainMaxRatio must be at most 100 (a takeover reads base + chain)')
      .default(1),
    /** Port of the worker's GET /health and GET /metrics (0: any free port); unset: no server. */
    httpPort: z.number().int().min(0).max(65_535).optional(),
    httpHost: z.string().min(1).default('127.0.0.1'),
    /** rows: bronze + silver per event; aggregates: 1-minute aggregates + silver rows of anomalies and their context. */
    writeMode: z.enum(['rows', 'aggregates']).default('rows'),
    /** Aggregate-only mode: source time after an anomaly during which the equipment's readings keep silver rows. */
    anomalyContextMs: z.number().int().min(0).default(600_000),
  })
  .strict();
