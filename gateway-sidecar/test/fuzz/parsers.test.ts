/**
 * Property-based fuzzing of the event parsers every source feeds: the EventValidator (the one gate
 * for OPC UA, Sparkplug, simulator and replay events), numeric parsing, the CSV reader of the replay
 * source, the Sparkplug decoder + alias tracker chained into the validator, and OPC UA quality mapping.
 * Nothing may throw (except CsvFormatError for a structural CSV problem), every event is either
 * accepted as a well-formed reading or rejected with a known reason, and the counts add up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { qualityOf } from '../../src/adapters/opcua-connection.ts';
import { sparkplugCodec, SparkplugTracker } from '../../src/adapters/sparkplug-tracker.ts';
import { parseConfig, toEquipment } from '../../src/config.ts';
import { CsvFormatError, parseSensorCsv } from '../../src/domain/csv.ts';
import { buildEquipmentIndex } from '../../src/domain/equipment.ts';
import {
  EventValidator,
  parseNumericValue,
  REJECT_REASONS,
  type TagEvent,
} from '../../src/domain/tag-event.ts';
import { anyValue, hostileString } from './fuzz-support.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const index = buildEquipmentIndex(toEquipment(parseConfig({})));
const SENSOR_TAGS = [...index.sensorsByTag.keys()];
const ALL_TAGS = [...SENSOR_TAGS, ...index.setpointsByTag.keys(), ...index.modeTags.keys()];
const NOW = Date.UTC(2026, 10, 29, 8, 0, 0);

const tagPath = fc.oneof(
  fc.constantFrom(...ALL_TAGS),
  hostileString,
  fc.string({ maxLength: 600 }),
  fc.constant(''),
);
const quality = fc.oneof(fc.constantFrom('good', 'uncertain', 'bad'), anyValue);
const timestamp = fc.oneof(
  fc.integer({ min: NOW - 86_400_000, max: NOW + 60_000 }),
  fc.constantFrom(Number.NaN, Infinity, -Infinity),
  anyValue,
);
const value = fc.oneof(
  fc.double(),
  fc.integer({ min: -1000, max: 5000 }),
  fc.constantFrom('12.5', ' 7 ', '1e3', 'NaN', '-inf', 'Infinity', '0x1F', '', true),
  anyValue,
);
const rawEvent = fc.oneof(
  fc.record({ tagPath, value, quality, sourceTimestampMs: timestamp, receivedTimestampMs: fc.constant(NOW) }),
  fc.record(
    { tagPath, value, quality, sourceTimestampMs: timestamp, receivedTimestampMs: timestamp },
    { requiredKeys: [] },
  ),
  anyValue,
);

test('EventValidator: any input is accepted as a sane reading or rejected with a known reason; counts add up', () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.array(rawEvent, { maxLength: 40 }), (events) => {
      const v = new EventValidator(index);
      const lastTs = new Map<string, number>();
      for (const ev of events) {
        const r = v.validate(ev as TagEvent);
        if (!r.ok) {
          assert.ok((REJECT_REASONS as readonly string[]).includes(r.reason), r.reason);
          assert.ok(r.message.length > 0);
          continue;
        }
        const e = r.event;
        assert.ok(Number.isFinite(e.sourceTimestampMs));
        if (e.kind === 'mode') {
          assert.equal(typeof e.mode, 'string');
          continue;
        }
        assert.ok(Number.isFinite(e.value), `accepted value is finite: ${e.value}`);
        const path = e.tag.tagPath;
        assert.ok(
          e.sourceTimestampMs >= (lastTs.get(path) ?? -Infinity),
          'per-tag accepted timestamps never go back',
        );
        lastTs.set(path, e.sourceTimestampMs);
        if (e.kind === 'sensor') {
          assert.ok(e.quality === 'good' || e.quality === 'uncertain');
          const span = e.tag.engHigh - e.tag.engLow;
          assert.ok(e.value >= e.tag.engLow - 0.1 * span && e.value <= e.tag.engHigh + 0.1 * span);
        }
      }
      const rejected = Object.values(v.rejectedCounts).reduce((a, b) => a + b, 0);
      assert.equal(v.acceptedCount + rejected, events.length, 'every event is counted exactly once');
      accepted += v.acceptedCount;
    }),
    { numRuns: RUNS },
  );
  assert.ok(accepted > 0, 'the generator also produces valid events (else the property proves little)');
});

test('EventValidator: a quality object without a usable toString is rejected, not thrown (found by fuzzing)', () => {
  const v = new EventValidator(index);
  const r = v.validate({
    tagPath: SENSOR_TAGS[0] as string,
    value: 1,
    quality: { toString: false } as unknown as 'good',
    sourceTimestampMs: NOW,
    receivedTimestampMs: NOW,
  });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'malformed');
});

test('EventValidator: NaN and Infinity on a known sensor are rejected as nan / infinite, never accepted', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...SENSOR_TAGS),
      fc.constantFrom(Number.NaN, Infinity, -Infinity, 'NaN', 'nan', '+Infinity', '-inf'),
      (tag, bad) => {
        const v = new EventValidator(index);
        const r = v.validate({
          tagPath: tag,
          value: bad,
          quality: 'good',
          sourceTimestampMs: NOW,
          receivedTimestampMs: NOW,
        });
        assert.equal(r.ok, false);
        assert.equal(
          !r.ok && r.reason,
          typeof bad === 'number'
            ? Number.isNaN(bad)
              ? 'nan'
              : 'infinite'
            : /nan/i.test(bad)
              ? 'nan'
              : 'infinite',
        );
      },
    ),
    { numRuns: 50 },
  );
});

test('parseNumericValue: finite numbers and their decimal strings come back exactly', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
      assert.equal(parseNumericValue(n), n);
      assert.equal(parseNumericValue(` ${String(n)} `), Number(String(n)));
    }),
    { numRuns: RUNS },
  );
});

test('parseSensorCsv: random text parses or throws CsvFormatError, nothing else', () => {
  const lines = fc.array(
    fc.oneof(
      fc.string({ maxLength: 40 }),
      hostileString,
      fc.constantFrom(
        'datetime;a;b',
        'timestamp,x',
        '2026-01-01 00:00:00;1;2',
        '1700000000,5',
        ';;',
        '"ts",x',
      ),
    ),
    { maxLength: 8 },
  );
  fc.assert(
    fc.property(lines, fc.constantFrom('\n', '\r\n'), (ls, nl) => {
      try {
        const t = parseSensorCsv(ls.join(nl));
        assert.equal(t.rows.length, t.timestampsMs.length);
        for (const row of t.rows) assert.equal(row.length, t.columns.length);
        assert.ok(t.timestampsMs.every(Number.isFinite));
      } catch (err) {
        assert.ok(err instanceof CsvFormatError, `only CsvFormatError may escape: ${String(err)}`);
        assert.ok(err.message.length > 0);
      }
    }),
    { numRuns: RUNS },
  );
});

test('parseSensorCsv: a generated table survives write -> parse exactly (values, empties as NaN, labels)', () => {
  const name = fc
    .stringMatching(/^[a-z][a-z0-9_]{0,9}$/)
    .filter(
      (n) =>
        ![
          'datetime',
          'timestamp',
          'time',
          'date',
          't_stamp',
          'ts',
          'anomaly',
          'changepoint',
          'label',
        ].includes(n),
    );
  const table = fc.uniqueArray(name, { minLength: 1, maxLength: 5 }).chain((cols) =>
    fc.tuple(
      fc.constant(cols),
      fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: 10 ** 9 }),
          fc.array(
            fc.oneof(
              fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (d === 0 ? 0 : d)),
              fc.constant(Number.NaN),
            ),
            { minLength: cols.length, maxLength: cols.length },
          ),
          fc.constantFrom(0, 1),
        ),
        { maxLength: 30 },
      ),
      fc.constantFrom(';', ','),
      fc.boolean(),
    ),
  );
  fc.assert(
    fc.property(table, ([cols, rows, sep, withLabels]) => {
      const header = ['datetime', ...cols, ...(withLabels ? ['anomaly'] : [])].join(sep);
      const body = rows.map(([sec, vals, label]) =>
        [
          String(1_600_000_000 + sec),
          ...vals.map((x) => (Number.isNaN(x) ? '' : String(x))),
          ...(withLabels ? [String(label)] : []),
        ].join(sep),
      );
      const t = parseSensorCsv([header, ...body].join('\n'));
      assert.deepEqual(t.columns, cols);
      assert.deepEqual(
        t.timestampsMs,
        rows.map(([sec]) => (1_600_000_000 + sec) * 1000),
      );
      assert.deepEqual(
        t.rows,
        rows.map(([, vals]) => vals),
      );
      assert.deepEqual(t.labels, withLabels ? rows.map(([, , l]) => l) : undefined);
    }),
    { numRuns: RUNS },
  );
});

test('Sparkplug: well-formed payloads with hostile names and values -> tracker -> validator never throw; counts add up', () => {
  const G = 'Plant';
  const metricValue = fc.oneof(
    fc.double().map((value) => ({ type: 'Double' as const, value })),
    fc.float().map((value) => ({ type: 'Float' as const, value })),
    fc.integer().map((value) => ({ type: 'Int32' as const, value })),
    fc.boolean().map((value) => ({ type: 'Boolean' as const, value })),
    hostileString.map((value) => ({ type: 'String' as const, value })),
  );
  const metric = fc.tuple(
    fc.oneof(fc.constantFrom('Flow', 'Temperature', 'bdSeq'), hostileString),
    fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
    metricValue,
  );
  const message = fc.tuple(
    fc.constantFrom('NBIRTH', 'NDATA', 'DBIRTH', 'DDATA', 'DDEATH', 'NDEATH'),
    fc.constantFrom('E1', 'E2'),
    fc.integer({ min: 0, max: 255 }),
    fc.array(metric, { maxLength: 6 }),
  );
  fc.assert(
    fc.property(fc.array(message, { maxLength: 12 }), (messages) => {
      const tracker = new SparkplugTracker(G, '[default]');
      const validator = new EventValidator(index);
      let events = 0;
      for (const [type, edge, seq, metrics] of messages) {
        const bytes = sparkplugCodec.encodePayload({
          timestamp: NOW,
          seq,
          metrics: metrics.map(([name, alias, v]) => ({
            name,
            ...(alias === undefined ? {} : { alias }),
            ...v,
          })),
        });
        const topic = type.startsWith('D')
          ? `spBv1.0/${G}/${type}/${edge}/D1`
          : `spBv1.0/${G}/${type}/${edge}`;
        const r = tracker.handle(topic, bytes, NOW);
        for (const e of r.events) {
          assert.ok(e.tagPath.startsWith(`[default]${G}/${edge}/`), e.tagPath);
          validator.validate(e);
          events++;
        }
      }
      const rejected = Object.values(validator.rejectedCounts).reduce((a, b) => a + b, 0);
      assert.equal(validator.acceptedCount + rejected, events);
    }),
    { numRuns: RUNS },
  );
});

test('OPC UA quality mapping: only Good* is good, only Uncertain* uncertain, everything else bad', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.constantFrom(
          'Good',
          'GoodClamped',
          'Uncertain',
          'UncertainLastUsableValue',
          'Bad',
          'BadNoCommunication',
          'good',
          '',
        ),
      ),
      (name) => {
        const q = qualityOf(name);
        assert.equal(
          q,
          name.startsWith('Good') ? 'good' : name.startsWith('Uncertain') ? 'uncertain' : 'bad',
        );
      },
    ),
    { numRuns: RUNS },
  );
});
