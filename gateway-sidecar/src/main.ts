/**
 * The composition root (STYLE.md §2): the only file that reads the environment (through
 * loadConfig), constructs adapters, wires them to the use cases, listens, and traps SIGINT/SIGTERM
 * for a clean drain. Without CONFIG_FILE it runs the demo configuration (config/demo.json): the
 * embedded database, the simulated plant with injected faults, and demo tokens for the preview;
 * unless GATEWAY_SECRET or a non-simulator SOURCE_KIND is set, which only a plant installation
 * does: then it refuses to start (exit 2) naming the missing CONFIG_FILE.
 */
import type { Server } from 'node:http';
import { Router } from 'express';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, toEquipment, type Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { systemClock, type TagSource, type TagWriter } from './ports.ts';
import { buildEquipmentIndex } from './domain/equipment.ts';
import { EventValidator, type SetpointReading } from './domain/tag-event.ts';
import { CriticalDetector } from './domain/critical.ts';
import { openDatabase, type Database } from './adapters/db.ts';
import { ResilientSink, resilientSinkOptionsFrom } from './adapters/resilient-sink.ts';
import { EventBatcher, eventBatcherOptionsFrom, registerEventKinds } from './adapters/event-batcher.ts';
import { PgEventWriter } from './adapters/pg-event-sink.ts';
import { PgRecommendationStore } from './adapters/pg-recommendation-store.ts';
import { PgCheckpointStore } from './adapters/pg-checkpoint-store.ts';
import { SimulatorTagSource } from './adapters/simulator-tag-source.ts';
import { SimulatorTagWriter } from './adapters/simulator-tag-writer.ts';
import { CsvReplayTagSource } from './adapters/csv-replay-tag-source.ts';
import { ReadOnlyTagWriter } from './adapters/read-only-tag-writer.ts';
import { SidecarMetrics } from './adapters/prom-metrics.ts';
import { PgMetricsRollup } from './adapters/pg-metrics-rollup.ts';
import { registerOperationsMetrics } from './adapters/prom-ops-metrics.ts';
import { scheduleRetention } from './adapters/pg-retention.ts';
import { createHttpApp } from './adapters/http/create-http-app.ts';
import { PgCriticalAlertReader } from './adapters/http/critical-alert-reader.ts';
import { disciplineRoutes } from './adapters/http/discipline-routes.ts';
import { demoTokensNeeded, generateDemoTokens } from './adapters/http/demo-tokens.ts';
import { IngestPipeline, type BatchDetector, type CriticalBypass } from './app/ingest.ts';
import { createRecommendations, recommendationsOptionsFrom } from './app/recommendations.ts';
import { LlmAdvisor } from './adapters/llm-advisor.ts';
import { createDetection, type DetectionHandle } from './main-detection.ts';
import { buildExtraSource } from './source-factory.ts';
import { startNotifications } from './main-notifications.ts';
import { healthReporter } from './main-health.ts';
import { SourceSupervisor } from './app/source-supervisor.ts';
import { createLearning, startLearningLoops, SYSTEM_ACTOR } from './main-learning.ts';

const DEMO_CONFIG = fileURLToPath(new URL('../config/demo.json', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Running {
  stop(): Promise<void>;
}

function buildSource(
  config: Config,
  logger: Logger,
): { source: TagSource; writer: TagWriter; observe?: (s: SetpointReading) => void } {
  const s = config.source;
  if (s.kind === 'simulator') {
    const source = new SimulatorTagSource({
      seed: s.simulator.seed,
      tickMs: s.simulator.tickMs,
      faultEveryMinutes: s.simulator.faultEveryMinutes,
      speed: s.simulator.speed,
    });
    return { source, writer: new SimulatorTagWriter(source.plant) };
  }
  if (s.kind === 'replay') {
    if (s.replay.file === undefined)
      throw new Error('source.replay.file is required when source.kind is "replay"');
    const writer = new ReadOnlyTagWriter('the source is a CSV replay');
    const source = new CsvReplayTagSource({
      file: s.replay.file,
      pace: s.replay.pace,
      tagPrefix: s.replay.tagPrefix,
      clock: systemClock,
    });
    return { source, writer, observe: (sp) => writer.observe(sp.tag.tagPath, sp.value) };
  }
  const extra = buildExtraSource(config);
  if (extra !== undefined) return extra;
  logger.fatal({ kind: s.kind }, 'source kind not wired in this build');
  throw new Error(`source.kind '${s.kind}' is not available in this build (use simulator or replay)`);
}

/** Largest delay between start attempts of a source that is not up yet (its own reconnect setting). */
function sourceRetryMaxMs(config: Config): number {
  const s = config.source;
  if (s.kind === 'opcua') return s.opcua.reconnectMaxDelayMs;
  if (s.kind === 'cdc') return s.cdc.reconnectMaxDelayMs;
  return 10_000;
}

async function start(config: Config, logger: Logger, demo: boolean): Promise<Running> {
  const index = buildEquipmentIndex(toEquipment(config));
  const metrics = new SidecarMetrics();
  const db: Database = await openDatabase(config, logger);

  const sink = new ResilientSink(resilientSinkOptionsFrom(config, logger));
  registerEventKinds(sink, new PgEventWriter(db.pool));
  sink.start();
  const batcher = new EventBatcher(sink, eventBatcherOptionsFrom(config));
  metrics.attach({ spoolDepth: () => sink.stats().journal.depth });

  const { source, writer, observe } = buildSource(config, logger);
  source.onStateChange?.((state, detail) =>
    logger.info({ source: source.name, state, detail }, 'source state'),
  );
  const detection: DetectionHandle = await createDetection(config, index, logger, metrics);

  // Learned pattern confidence feeds the engine; the audited revert serves the outcome check.
  const learning = createLearning(config, db.pool, logger, {
    revert: (id, note) => recs.revert(id, SYSTEM_ACTOR, note),
  });
  const recs = await createRecommendations({
    store: new PgRecommendationStore(db.pool),
    writer,
    equipment: index,
    clock: systemClock,
    logger,
    options: recommendationsOptionsFrom(config),
    confidence: (equipmentId, issueType, base) => learning.confidence(equipmentId, issueType, base),
    ...(config.llm.url !== undefined
      ? {
          advisor: new LlmAdvisor(
            {
              url: config.llm.url,
              model: config.llm.model,
              apiKey: config.llm.apiKey,
              timeoutMs: config.llm.timeoutMs,
              cacheTtlSec: config.llm.cacheTtlSec,
            },
            systemClock,
            logger,
          ),
        }
      : {}),
  });
  metrics.attach({
    kpis: () => ({ ...recs.kpis(), chatteringPatterns: recs.kpis().chatteringPatterns.length }),
  });

  const bypass = recs.criticalBypass(
    new CriticalDetector({ rearmFraction: config.recommendations.criticalRearmFraction }),
  );
  const critical: CriticalBypass<unknown> = {
    evaluate: (r) => bypass.evaluate(r),
    raise: async (alerts) => {
      await bypass.raise(alerts as Parameters<typeof bypass.raise>[0]);
      for (let i = 0; i < alerts.length; i++) metrics.criticalAlert();
    },
    ready: () => bypass.ready(),
  };
  const detector: BatchDetector = detection.detector;
  const ingest = new IngestPipeline({
    source,
    validator: new EventValidator(index),
    critical,
    detector,
    sink: { write: (bronze, silver) => batcher.writeReadings(bronze, silver) },
    recommendations: recs,
    modes: recs,
    setpoints: {
      onSetpoint: (sp) => {
        recs.onSetpoint(sp);
        observe?.(sp);
      },
    },
    checkpoints: new PgCheckpointStore(db.pool),
    observer: metrics,
    clock: systemClock,
    logger,
  });

  const auth = { ...config.auth, tokens: [...config.auth.tokens] };
  let pageToken: string | undefined;
  if (demoTokensNeeded(config.http.demoTokens, config.auth)) {
    const demoTokens = generateDemoTokens();
    auth.tokens.push(...demoTokens.tokens.map((t) => ({ ...t, roles: [...t.roles] })));
    pageToken = demoTokens.pageToken;
    const [viewer, operator, engineer] = demoTokens.tokens;
    logger.warn(
      { viewerToken: viewer?.token, operatorToken: operator?.token, engineerToken: engineer?.token },
      'demo tokens generated (no auth configured); the preview page gets the operator token on loopback only; configure auth.tokens or auth.gatewaySecret for production',
    );
  }

  const supervisor = new SourceSupervisor({
    source,
    start: () => ingest.start(),
    stop: () => ingest.stop(),
    logger,
    retryMs: { first: 500, max: sourceRetryMaxMs(config) },
  });
  const health = healthReporter({ db, sink, sourceName: source.name, supervisor, detection });

  const notifications = startNotifications(config, db.pool, index, recs, logger);
  registerOperationsMetrics(metrics.registry, {
    ...(notifications ? { notifier: () => notifications.stats() } : {}),
    modelVersion: () => detection.modelVersion,
  });
  const extraApiRoutes = Router();
  extraApiRoutes.use(disciplineRoutes(recs, logger));
  if (notifications) extraApiRoutes.use(notifications.router);

  const app = createHttpApp({
    recommendations: recs,
    auth,
    http: config.http,
    clock: systemClock,
    logger,
    health,
    metrics: () => metrics.render(),
    criticalAlerts: new PgCriticalAlertReader(db.pool),
    sseObserver: metrics,
    decisionObserver: metrics,
    refusalObserver: metrics,
    extraApiRoutes,
    preview: {
      previewDir: join(REPO_ROOT, 'perspective-component', 'preview'),
      distDir: join(REPO_ROOT, 'perspective-component', 'dist'),
      ...(pageToken !== undefined ? { demoToken: pageToken } : {}),
    },
  });

  const rollup = new PgMetricsRollup({
    db: db.pool,
    counters: () => ({ events: metrics.eventsIn.total(), anomalies: metrics.anomalies.total() }),
    extra: () => {
      const k = recs.kpis();
      return {
        ...k,
        spoolDepth: sink.stats().journal.depth,
        modelVersion: detection.modelVersion,
        rejected: metrics.eventsRejected.total(),
      };
    },
    clock: systemClock,
    logger,
    intervalMs: config.metrics.rollupIntervalMs,
  });
  rollup.start();
  const learningLoops = await startLearningLoops({
    config,
    pool: db.pool,
    logger,
    learning,
    detector: detection.detector,
    runnerOptions: detection.runnerOptions,
    recommendations: recs,
    metrics: metrics.registry,
    ...(notifications ? { notifications } : {}),
  });

  const tick = setInterval(() => {
    recs.tick().catch((err: unknown) => logger.warn({ err }, 'recommendation tick failed'));
  }, config.recommendations.tickMs);
  tick.unref();
  const retention = scheduleRetention(db.pool, config.retention, {
    intervalMs: config.retention.intervalMinutes * 60_000,
    // Not at start: a restart (or a replay of recorded history) must not prune before it has run.
    firstRunAfterMs: config.retention.intervalMinutes * 60_000,
    now: () => systemClock.now(),
    onReport: (r) => logger.info({ retention: r }, 'retention run'),
    onError: (err) => logger.error({ err }, 'retention failed'),
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  logger.info(
    {
      port,
      host: config.host,
      url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}/`,
      demo,
      source: source.name,
    },
    'listening',
  );
  // After listening: /health and the API answer while the source connects (or keeps retrying).
  supervisor.begin();

  return {
    async stop() {
      clearInterval(tick);
      await retention.stop();
      await learningLoops.stop();
      await rollup.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SSE streams never end by themselves.
        server.closeAllConnections();
      });
      await supervisor.stop();
      bypass.close();
      await recs.idle();
      await notifications?.stop();
      await batcher.close();
      // The last partial minute is rolled up too, so a short run still leaves its row.
      await rollup
        .rollupNow()
        .catch((err: unknown) => logger.warn({ err }, 'final pipeline_metrics rollup failed'));
      await sink.close();
      await detection.close();
      await db.close();
    },
  };
}

/**
 * Why the demo must not run although CONFIG_FILE is unset: a variable only a plant installation
 * sets (the gateway secret, a real source kind) says this is one that forgot its configuration
 * file, and the demo would feed simulated faults to its operators. undefined: the demo may run
 * (DATABASE_URL, LLM_*, PORT… are fine with it).
 */
function plantWithoutConfigFile(env: NodeJS.ProcessEnv): string | undefined {
  const set = (k: string): boolean => (env[k] ?? '').trim() !== '';
  const named = [
    ...(set('GATEWAY_SECRET') ? ['GATEWAY_SECRET'] : []),
    ...(set('SOURCE_KIND') && env.SOURCE_KIND?.trim() !== 'simulator'
      ? [`SOURCE_KIND=${env.SOURCE_KIND?.trim()}`]
      : []),
  ];
  if (named.length === 0) return undefined;
  return `CONFIG_FILE is not set but ${named.join(' and ')} is: refusing to start the demo (simulated plant with injected faults) on what looks like a plant installation; set CONFIG_FILE to your configuration file (docs/install-ignition.md section 4), or unset ${named.map((n) => n.split('=')[0]).join(' and ')} to run the demo`;
}

async function main(): Promise<void> {
  // The one place besides config.ts that looks at the environment: no CONFIG_FILE means the demo.
  const demo = process.env.CONFIG_FILE === undefined || process.env.CONFIG_FILE === '';
  const refusal = demo ? plantWithoutConfigFile(process.env) : undefined;
  if (refusal !== undefined) {
    process.stderr.write(`${refusal}\n`);
    process.exit(2);
  }
  let config: Config;
  try {
    config = loadConfig(process.env, demo ? DEMO_CONFIG : undefined);
  } catch (err) {
    // No logger yet (its level is configuration): the message names every bad key.
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: config.logLevel });
  let running: Running | undefined;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without drain');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void (running?.stop() ?? Promise.resolve()).then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  try {
    running = await start(config, logger, demo);
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
}

await main();
