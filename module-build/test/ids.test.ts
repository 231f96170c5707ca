/**
 * One component id, one module id, one alias: the TypeScript component, module-build's
 * constants, the Java hook constants and module.xml must agree (a mismatch leaves the component
 * blank in the browser or unregistered in the gateway). The JVM test checks the registered
 * descriptor at run time; this checks the sources.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { manifestFor } from '../src/assemble.ts';
import * as mb from '../src/constants.ts';
import { parseModuleXml, renderModuleXml } from '../src/module-xml.ts';
import { MODULE_BUILD_DIR, REPO_ROOT } from './fixtures/build.ts';

function javaConstant(name: string): string {
  const src = readFileSync(
    join(
      MODULE_BUILD_DIR,
      'java',
      'src',
      'common',
      'com',
      'aimonitor',
      'ignition',
      'common',
      'AiMonitorComponents.java',
    ),
    'utf8',
  );
  const m = new RegExp(`static final String ${name} = "([^"]*)";`).exec(src);
  assert.ok(m, `AiMonitorComponents.${name} not found`);
  return m[1] as string;
}

test('component type, module id and alias agree across TypeScript, Java and module.xml', async () => {
  const ts = (await import(join(REPO_ROOT, 'perspective-component', 'src', 'component-types.ts'))) as Record<
    string,
    string
  >;
  assert.equal(javaConstant('RECOMMENDATIONS_COMPONENT_TYPE'), ts.RECOMMENDATIONS_COMPONENT_TYPE);
  assert.equal(ts.RECOMMENDATIONS_COMPONENT_TYPE, 'aimonitor.display.recommendations');
  assert.equal(javaConstant('MODULE_ID'), mb.MODULE_ID);
  assert.equal(ts.MODULE_ID, mb.MODULE_ID);
  assert.equal(javaConstant('MOUNT_ALIAS'), mb.MOUNT_ALIAS);
  assert.equal(ts.MOUNT_ALIAS, mb.MOUNT_ALIAS);
  for (const target of ['8.1', '8.3'] as const) {
    const id = parseModuleXml(renderModuleXml(manifestFor('0.1.0', target), target)).find(
      (e) => e.name === 'id',
    );
    assert.equal(id?.text, mb.MODULE_ID);
  }
});

test('module.xml refuses a non-numeric version (8.3 rejects them)', () => {
  assert.throws(() => renderModuleXml(manifestFor('0.1.0-beta.1', '8.3'), '8.3'), /must be numeric/);
});
