/**
 * The ready-to-import Perspective view (docs/perspective-view/) matches the component it uses:
 * its type id, and every prop it sets, validated against perspective-component/props.json; its
 * bindings name view params that exist; its named query's parameters match and the SQL runs.
 * What only a real gateway can confirm is listed in docs/perspective-view.md.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { createTestDatabase, type TestDatabase, testPool } from '../fixtures/pg.ts';

const root = new URL('../../../', import.meta.url);
const project = new URL('docs/perspective-view/AiMonitorProject/', root);
const viewDir = new URL('com.inductiveautomation.perspective/views/AiMonitor/EquipmentOverview/', project);
const queryDir = new URL('ignition/named-query/AiMonitor/CriticalAlerts/', project);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Schema {
  type?: string | string[];
  enum?: Json[];
  minimum?: number;
  maximum?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
  $ref?: string;
}
interface Component {
  type: string;
  meta: { name: string };
  props?: Record<string, Json>;
  propConfig?: Record<string, { binding?: { type: string; config: Record<string, Json> } }>;
  children?: Component[];
}

const read = (u: URL): string => readFileSync(u, 'utf8');
const view = JSON.parse(read(new URL('view.json', viewDir))) as {
  params: Record<string, Json>;
  root: Component;
};
const propsSchema = JSON.parse(read(new URL('perspective-component/props.json', root))) as Schema;
const componentType = /RECOMMENDATIONS_COMPONENT_TYPE = '([^']+)'/.exec(
  read(new URL('perspective-component/src/component-types.ts', root)),
)?.[1];

function all(c: Component): Component[] {
  return [c, ...(c.children ?? []).flatMap(all)];
}

function typeOf(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Checks `value` against the subset of JSON Schema props.json uses; returns the problems. */
function validate(value: Json, schema: Schema, path: string): string[] {
  if (schema.$ref)
    return typeOf(value) === 'object' ? [] : [`${path}: expected an object for ${schema.$ref}`];
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const t = typeOf(value);
  if (types.length > 0 && !types.includes(t) && !(t === 'integer' && types.includes('number')))
    return [`${path}: expected ${types.join('|')}, got ${t}`];
  const problems: string[] = [];
  if (schema.enum && !schema.enum.includes(value))
    problems.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum)
    problems.push(`${path}: below ${schema.minimum}`);
  if (typeof value === 'number' && schema.maximum !== undefined && value > schema.maximum)
    problems.push(`${path}: above ${schema.maximum}`);
  if (Array.isArray(value) && schema.items)
    value.forEach((v, i) => problems.push(...validate(v, schema.items as Schema, `${path}[${i}]`)));
  if (t === 'object' && schema.properties) {
    for (const [k, v] of Object.entries(value as Record<string, Json>)) {
      const sub = schema.properties[k];
      if (!sub) {
        if (schema.additionalProperties === false) problems.push(`${path}.${k}: not a prop of the component`);
        continue;
      }
      problems.push(...validate(v, sub, `${path}.${k}`));
    }
  }
  return problems;
}

const components = all(view.root);
const panel = components.find((c) => c.type === componentType);

test('the view uses the recommendations component by its registered type id, with valid props', () => {
  assert.equal(componentType, 'aimonitor.display.recommendations');
  assert.ok(panel, `no component of type ${componentType} in the view`);
  assert.deepEqual(validate(panel.props ?? {}, propsSchema, 'props'), []);
  // Each bound prop path exists in the component's schema.
  for (const key of Object.keys(panel.propConfig ?? {})) {
    let s: Schema | undefined = propsSchema;
    for (const part of key.replace(/^props\./, '').split('.')) s = s?.properties?.[part];
    assert.ok(s, `${key} is not a prop of the component`);
  }
  // The validator itself rejects what the component would reject.
  assert.notDeepEqual(
    validate({ transport: 'carrier-pigeon', pageSize: 0, nope: 1 }, propsSchema, 'props'),
    [],
  );
});

test('every binding names a view param that exists, and the view holds trend and critical alerts', () => {
  const text = JSON.stringify(view.root);
  const used = new Set([...text.matchAll(/view\.params\.([A-Za-z0-9_]+)/g)].map((m) => m[1] as string));
  assert.ok(used.size >= 3);
  for (const p of used) assert.ok(p in view.params, `binding uses missing view param '${p}'`);
  const types = components.map((c) => c.type);
  assert.ok(types.includes('ia.chart.timeseries'), 'trend');
  assert.ok(types.includes('ia.display.table'), 'critical alerts');
  const names = components.map((c) => c.meta.name);
  assert.equal(new Set(names).size, names.length, 'component names are unique');
  for (const dir of [viewDir, queryDir]) {
    const resource = JSON.parse(read(new URL('resource.json', dir))) as { files: string[] };
    for (const f of resource.files)
      assert.ok(existsSync(new URL(f, dir)), `${f} listed in resource.json is missing`);
  }
});

let db: TestDatabase;
let pool: pg.Pool;
before(async () => {
  db = await createTestDatabase('sc_view');
  pool = testPool(db.url, 2);
  await runMigrations(pool);
});
after(async () => {
  await pool.end();
  await db.drop();
});

test('the critical-alerts named query: binding parameters match its declaration and the SQL runs', async () => {
  const table = components.find((c) => c.meta.name === 'CriticalAlerts');
  const binding = table?.propConfig?.['props.data']?.binding;
  assert.equal(binding?.type, 'query');
  assert.equal(binding?.config.queryPath, 'AiMonitor/CriticalAlerts');
  const declared = (
    JSON.parse(read(new URL('resource.json', queryDir))) as {
      attributes: { parameters: { identifier: string }[] };
    }
  ).attributes.parameters.map((p) => p.identifier);
  assert.deepEqual(
    Object.keys(binding?.config.parameters as Record<string, Json>).sort(),
    [...declared].sort(),
  );
  const sql = read(new URL('query.sql', queryDir));
  const order: string[] = [];
  const text = sql.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => `$${order.push(name)}`);
  assert.deepEqual([...new Set(order)].sort(), [...declared].sort());
  await pool.query(
    `INSERT INTO mining_operations.critical_alerts (alert_id, equipment_id, sensor_type, tag_path, sensor_value, threshold, level, message, alert_timestamp)
     VALUES ('a1', 'REACTOR_01', 'temperature', 't', 93, 90, 'emergency', 'hot', now()), ('a2', 'PUMP_01', 'vibration', 'v', 6, 5, 'emergency', 'shaking', now())`,
  );
  const args: Record<string, unknown> = { equipmentId: 'REACTOR_01', minutes: 60 };
  const { rows } = await pool.query<{ message: string }>(
    text,
    order.map((n) => args[n]),
  );
  assert.deepEqual(
    rows.map((r) => r.message),
    ['hot'],
  );
});
