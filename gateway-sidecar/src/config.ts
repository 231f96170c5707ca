/**
 * The one configuration schema (STYLE.md §5). Defaults live in the schema; unknown keys are
 * errors; `loadConfig` collects every problem into one SC_ERR_CONFIG_INVALID naming each key, and
 * returns a deep-frozen object. This is the only file that reads process.env.
 *
 * Sources, in increasing precedence: schema defaults, the JSON file named by CONFIG_FILE (or the
 * `configFile` argument), then environment overrides (see ENV_OVERRIDES).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_EQUIPMENT } from './default-plant.ts';
import { buildEquipmentIndex, type Equipment } from './domain/equipment.ts';
import { notificationsSchema, retentionSchema } from './config-operations.ts';
import { cdcSchema, natsSchema, scaleSchema } from './config-scale.ts';
import { learningSchema } from './config-learning.ts';
import { ERRORS, SidecarError } from './errors.ts';

const thresholds = z
  .object({
    warning: z.number(),
    critical: z.number(),
    emergency: z.number(),
    direction: z.enum(['high', 'low']).default('high'),
  })
  .strict()
  .superRefine((t, ctx) => {
    const ordered =
      t.direction === 'high'
        ? t.warning <= t.critical && t.critical <= t.emergency
        : t.warning >= t.critical && t.critical >= t.emergency;
    if (!ordered) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `levels must be ordered warning ${t.direction === 'high' ? '<=' : '>='} critical ${t.direction === 'high' ? '<=' : '>='} emergency`,
      });
    }
  });

const sensorSchema = z
  .object({
    tagPath: z.string().min(1).max(512),
    sensorType: z.string().min(1),
    unit: z.string().default(''),
    engLow: z.number(),
    engHigh: z.number(),
    /** Per-tag override of anomalyThresholds[sensorType]. */
    thresholds: thresholds.optional(),
  })
  .strict()
  .refine((s) => s.engHigh > s.engLow, { message: 'engHigh must be greater than engLow' });

const setpointSchema = z
  .object({
    tagPath: z.string().min(1).max(512),
    name: z.string().min(1),
    unit: z.string().default(''),
    min: z.number(),
    max: z.number(),
    maxStep: z.number().positive(),
    twoPersonAbovePct: z.number().min(0).max(1).default(0.2),
  })
  .strict()
  .refine((s) => s.max > s.min, { message: 'max must be greater than min' });

const equipmentSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'equipment id must be 1-64 of A-Z a-z 0-9 _ . -'),
    area: z.string().min(1).default('default'),
    kind: z.string().default('generic'),
    description: z.string().default(''),
    modeTag: z.string().optional(),
    /** The plant's values of the mode tag → operating mode, e.g. {"0": "RUN", "2": "MAINTENANCE"}. */
    modeValues: z
      .record(z.string().trim().min(1).max(64), z.enum(['RUN', 'MAINTENANCE', 'STARTUP']))
      .optional(),
    sensors: z.array(sensorSchema).min(1),
    setpoints: z.array(setpointSchema).default([]),
  })
  .strict()
  .refine((e) => e.modeValues === undefined || e.modeTag !== undefined, {
    message: 'modeValues needs a modeTag to read the values from',
    path: ['modeValues'],
  });

export const configSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).default(8787),
    host: z.string().default('127.0.0.1'),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** Folder for the embedded database, the spool journal and other local state. */
    dataDir: z.string().default('.data'),
    database: z
      .object({
        /** Postgres / Lakebase URL. Unset: the embedded database under dataDir. */
        url: z.string().url().optional(),
        ssl: z.enum(['disable', 'require', 'verify-full']).default('disable'),
        poolMax: z.number().int().min(1).max(100).default(10),
        connectionTimeoutMs: z.number().int().positive().default(5_000),
        statementTimeoutMs: z.number().int().positive().default(15_000),
        idleTimeoutMs: z.number().int().positive().default(30_000),
        /** Rows per bronze/silver insert batch, and longest a row waits for its batch. */
        batchRows: z.number().int().min(1).max(50_000).default(500),
        flushIntervalMs: z.number().int().positive().default(250),
        /** Bound of the spool journal under <dataDir>/spool used while the database is unreachable. */
        spoolMaxBytes: z
          .number()
          .int()
          .min(1024 * 1024)
          .default(64 * 1024 * 1024),
        /** Longest wait between reconnection attempts while spooling. */
        spoolRetryMaxMs: z.number().int().positive().default(30_000),
      })
      .strict()
      .default({}),
    source: z
      .object({
        kind: z.enum(['simulator', 'replay', 'opcua', 'sparkplug', 'cdc', 'nats']).default('simulator'),
        simulator: z
          .object({
            seed: z.number().int().default(42),
            tickMs: z.number().int().positive().default(1_000),
            /** Inject a fault every N minutes (0 disables). */
            faultEveryMinutes: z.number().min(0).default(3),
            /** Simulated seconds per real second. */
            speed: z.number().positive().default(1),
          })
          .strict()
          .default({}),
        replay: z
          .object({
            file: z.string().optional(),
            pace: z.enum(['recorded', 'fast']).default('fast'),
            /** Tag path prefix the CSV columns are mapped under, e.g. '[default]SKAB/'. */
            tagPrefix: z.string().default(''),
            /** Recorded pace: recorded seconds per real second. */
            speed: z.number().positive().default(1),
          })
          .strict()
          .default({}),
        /** OPC UA (Ignition's OPC UA server exposing tag providers); see docs/opcua-bridge.md. */
        opcua: z
          .object({
            endpointUrl: z
              .string()
              .regex(/^opc\.tcp:\/\//, 'endpointUrl must start with opc.tcp://')
              .default('opc.tcp://127.0.0.1:62541'),
            securityMode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None'),
            securityPolicy: z.enum(['None', 'Basic256Sha256']).default('None'),
            userName: z.string().min(1).optional(),
            password: z.string().optional(),
            /** Tag namespace by URI (resolved from the server's NamespaceArray); wins over namespaceIndex. */
            namespaceUri: z.string().min(1).optional(),
            namespaceIndex: z.number().int().min(0).default(2),
            /** Tag paths to monitor; unset: every sensor, setpoint and mode tag of the equipment map. */
            tags: z.array(z.string().min(1).max(512)).optional(),
            samplingIntervalMs: z.number().int().min(0).default(1_000),
            publishingIntervalMs: z.number().int().positive().default(1_000),
            queueSize: z.number().int().min(1).max(10_000).default(10),
            deadbandType: z.enum(['none', 'absolute', 'percent']).default('none'),
            deadbandValue: z.number().min(0).default(0),
            /** Client certificate and trust lists; unset: <dataDir>/pki/opcua. */
            pkiDir: z.string().optional(),
            trustUnknownServerCertificate: z.boolean().default(false),
            reconnectMaxDelayMs: z.number().int().positive().default(10_000),
            maxBatch: z.number().int().positive().default(1_000),
            maxQueued: z.number().int().positive().default(100_000),
          })
          .strict()
          .default({})
          .refine((o) => (o.securityMode === 'None') === (o.securityPolicy === 'None'), {
            message:
              "securityMode 'None' goes with securityPolicy 'None', and Sign/SignAndEncrypt with Basic256Sha256",
          }),
        /** MQTT Sparkplug B (Cirrus Link MQTT Transmission or any edge node). */
        sparkplug: z
          .object({
            brokerUrl: z
              .string()
              .regex(/^(mqtts?|wss?|tcp|tls):\/\//, 'brokerUrl must be an mqtt:// or mqtts:// URL')
              .default('mqtt://127.0.0.1:1883'),
            groupId: z
              .string()
              .regex(/^[^/+#]{1,128}$/, 'groupId must not contain / + #')
              .default('Plant'),
            /** Edge node id to follow, or '+' for all nodes of the group. */
            edgeNodeId: z
              .string()
              .regex(/^(\+|[^/+#]{1,128})$/, "edgeNodeId must be '+' or an id without / + #")
              .default('+'),
            /** Tag path = tagPrefix + group/edge/[device/]metric. */
            tagPrefix: z.string().default('[MQTT Engine]Edge Nodes/'),
            clientId: z.string().min(1).optional(),
            username: z.string().min(1).optional(),
            password: z.string().optional(),
            /** How long a setpoint command waits for the edge node's confirming DATA. */
            confirmTimeoutMs: z.number().int().positive().default(5_000),
            maxBatch: z.number().int().positive().default(1_000),
            maxQueued: z.number().int().positive().default(100_000),
          })
          .strict()
          .default({}),
        /** sensor_data CDC (docs/cdc.md). */
        cdc: cdcSchema.default({}),
        /** NATS JetStream of the scale-out (docs/scale-out.md). */
        nats: natsSchema.default({}),
      })
      .strict()
      .default({}),
    /** Partitioned scale-out workers (docs/scale-out.md). */
    scale: scaleSchema.default({}),
    /** Per sensor type: warning / critical / emergency levels (the seed's ANOMALY_THRESHOLDS). */
    anomalyThresholds: z.record(z.string(), thresholds).default({
      temperature: { warning: 80, critical: 85, emergency: 90, direction: 'high' },
      vibration: { warning: 3.5, critical: 4.0, emergency: 5.0, direction: 'high' },
    }),
    dedupWindowMinutes: z.number().positive().default(5),
    minConfidence: z.number().min(0).max(1).default(0.6),
    /** Recommendation lifecycle and ISA-18.2 alarm discipline (docs/recommendations.md). */
    recommendations: z
      .object({
        expireAfterMinutes: z.number().positive().default(240),
        maxRecommendationsPer10Min: z.number().int().min(1).default(10),
        shelveMaxHours: z.number().positive().default(24),
        maxDeferHours: z.number().positive().default(72),
        chatterCount: z.number().int().min(2).default(3),
        chatterWindowMinutes: z.number().positive().default(60),
        tickMs: z.number().int().positive().default(5_000),
        criticalRearmFraction: z.number().min(0).max(0.5).default(0.02),
        changeLogRetentionHours: z.number().positive().default(168),
        /** A rejected row's later anomalies reopen when scoring more than this above it (domain/reopen.ts). */
        reopenScoreMargin: z
          .number({ invalid_type_error: 'must be a number in [0, 1] (anomaly scores are in [0, 1])' })
          .min(0, 'must be at least 0 (a score margin in [0, 1])')
          .max(1, 'must be at most 1 (anomaly scores are in [0, 1])')
          .default(0.1),
      })
      .strict()
      .default({}),
    /** Optional LLM enrichment over an OpenAI-compatible chat-completions endpoint; unset url = off. */
    llm: z
      .object({
        url: z.string().url().optional(),
        model: z.string().min(1).default('databricks-meta-llama-3-3-70b-instruct'),
        apiKey: z.string().optional(),
        timeoutMs: z.number().int().positive().default(3_000),
        cacheTtlSec: z.number().int().min(0).default(300),
      })
      .strict()
      .default({}),
    writes: z
      .object({
        requireReadBack: z.boolean().default(true),
        readBackTolerance: z.number().min(0).default(1e-6),
      })
      .strict()
      .default({}),
    ensemble: z
      .object({
        ifWeight: z.number().min(0).max(1).default(0.3),
        rfWeight: z.number().min(0).max(1).default(0.7),
        /** Folder holding the model version to serve (model.onnx files + model.json). */
        modelDir: z.string().optional(),
        batchSize: z.number().int().positive().default(256),
        batchMaxWaitMs: z.number().int().min(0).default(5),
        /** Model runs per micro-batch, so features and scoring overlap (docs/performance.md). */
        pipelineChunks: z.number().int().min(1).max(64).default(2),
        /** Where the ONNX session runs: its own worker thread, or the event-loop thread. */
        onnxThread: z.enum(['worker', 'main']).default('worker'),
        onnxIntraOpThreads: z.number().int().min(1).max(64).default(1),
        onnxInterOpThreads: z.number().int().min(1).max(64).default(1),
      })
      .strict()
      .default({})
      .refine((e) => Math.abs(e.ifWeight + e.rfWeight - 1) < 1e-9, {
        message: 'ifWeight + rfWeight must equal 1',
      }),
    features: z
      .object({
        windowMs: z
          .number()
          .int()
          .positive()
          .default(24 * 3600 * 1000),
        bucketCount: z.number().int().min(4).max(1440).default(96),
      })
      .strict()
      .default({}),
    equipment: z
      .array(equipmentSchema)
      .min(1)
      .default(DEFAULT_EQUIPMENT as z.input<typeof equipmentSchema>[]),
    http: z
      .object({
        bodyLimitBytes: z.number().int().min(256).max(10_000_000).default(16_384),
        rateLimitPerMinute: z.number().int().positive().default(600),
        corsOrigins: z.array(z.string().url()).default([]),
        frameAncestors: z.array(z.string().min(1)).default(["'self'"]),
        sseHeartbeatMs: z.number().int().positive().default(15_000),
        sseMaxQueue: z.number().int().positive().default(1_000),
        /** 'auto': with no tokens and no gatewaySecret configured, generate demo tokens at start. */
        demoTokens: z.enum(['auto', 'off']).default('auto'),
      })
      .strict()
      .default({}),
    metrics: z
      .object({
        rollupIntervalMs: z.number().int().positive().default(60_000),
      })
      .strict()
      .default({}),
    auth: z
      .object({
        tokens: z
          .array(
            z
              .object({
                token: z.string().min(16, 'tokens must be at least 16 characters'),
                user: z.string().min(1),
                roles: z.array(z.enum(['viewer', 'operator', 'engineer'])).min(1),
              })
              .strict(),
          )
          .default([]),
        /** Shared secret the gateway module signs identities with (HMAC-SHA256). */
        gatewaySecret: z.string().min(32, 'gatewaySecret must be at least 32 characters').optional(),
        gatewayMaxSkewSec: z.number().int().positive().default(60),
        /** Ignition role name -> sidecar role. Unmapped Ignition roles grant nothing. */
        gatewayRoleMap: z.record(z.string(), z.enum(['viewer', 'operator', 'engineer'])).default({
          Viewer: 'viewer',
          Operator: 'operator',
          Engineer: 'engineer',
          Administrator: 'engineer',
        }),
      })
      .strict()
      .default({}),
    /** Alerts that reach people off the HMI (docs/notifications.md). */
    notifications: notificationsSchema.default({}),
    /** Partitions, 1-minute aggregates and pruning of raw data (docs/retention.md). */
    retention: retentionSchema.default({}),
    /** Labels, pattern confidence, retraining, outcome checks, drift (docs/learning.md). */
    learning: learningSchema.default({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/** Environment variable -> config path. Values are parsed by the schema (numbers are coerced). */
export const ENV_OVERRIDES: Readonly<Record<string, string>> = {
  PORT: 'port',
  HOST: 'host',
  LOG_LEVEL: 'logLevel',
  DATA_DIR: 'dataDir',
  DATABASE_URL: 'database.url',
  DATABASE_SSL: 'database.ssl',
  SOURCE_KIND: 'source.kind',
  GATEWAY_SECRET: 'auth.gatewaySecret',
  LLM_URL: 'llm.url',
  LLM_MODEL: 'llm.model',
  LLM_API_KEY: 'llm.apiKey',
};

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === undefined || next === null || typeof next !== 'object') node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** Validates a raw object (defaults applied). Throws SC_ERR_CONFIG_INVALID listing every problem. */
export function parseConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new SidecarError(ERRORS.CONFIG_INVALID, `invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    });
  }
  try {
    buildEquipmentIndex(toEquipment(result.data));
  } catch (err) {
    throw new SidecarError(
      ERRORS.CONFIG_INVALID,
      `invalid configuration:\n  - equipment: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return deepFreeze(result.data);
}

/** Reads the optional JSON file and the environment, then validates. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, configFile?: string): Config {
  const file = configFile ?? env.CONFIG_FILE;
  let raw: Record<string, unknown> = {};
  if (file) {
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new SidecarError(
        ERRORS.CONFIG_FILE_UNREADABLE,
        `cannot read config file '${file}': ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }
  return parseConfig(raw);
}

/** The equipment list with per-sensor thresholds resolved (tag override, else anomalyThresholds[type]). */
export function toEquipment(config: Config): Equipment[] {
  return config.equipment.map((eq) => ({
    id: eq.id,
    area: eq.area,
    kind: eq.kind,
    description: eq.description,
    modeTag: eq.modeTag,
    ...(eq.modeValues !== undefined ? { modeValues: eq.modeValues } : {}),
    sensors: eq.sensors.map((s) => ({
      tagPath: s.tagPath,
      equipmentId: eq.id,
      sensorType: s.sensorType,
      unit: s.unit,
      engLow: s.engLow,
      engHigh: s.engHigh,
      thresholds: s.thresholds ?? config.anomalyThresholds[s.sensorType],
    })),
    setpoints: eq.setpoints.map((sp) => ({ ...sp, equipmentId: eq.id })),
  }));
}
