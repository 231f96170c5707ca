/**
 * Assembles one `.modl` per Ignition target: compiled hook jars (common GD, gateway G with the
 * component bundle under mounted/, designer D), the license and a generated module.xml, zipped
 * deterministically. Signing happens afterwards (signing/sign-module.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentInputs } from './component-inputs.ts';
import { MODULE_ID, MODULE_NAME } from './constants.ts';
import { buildJar, compileJava, filesAsEntries } from './java-build.ts';
import { renderModuleXml, type IgnitionTarget, type ModuleManifest } from './module-xml.ts';
import { writeZip, type ZipEntryInput } from './zip/zip-writer.ts';

export const TARGETS: readonly IgnitionTarget[] = ['8.1', '8.3'];
export const FILE_BASENAME = 'ai-equipment-monitor';
export const LICENSE_FILE = 'license.html';
export const PERSPECTIVE_MODULE_ID = 'com.inductiveautomation.perspective';
export const GATEWAY_HOOK = 'com.aimonitor.ignition.gateway.AiMonitorGatewayHook';
export const DESIGNER_HOOK = 'com.aimonitor.ignition.designer.AiMonitorDesignerHook';
/** 8.1.33 is the oldest release known to run React 18, which the bundle is built for (notes §2.1). */
export const REQUIRED_IGNITION: Record<IgnitionTarget, string> = { '8.1': '8.1.33', '8.3': '8.3.0' };

export function moduleFileName(version: string, target: IgnitionTarget, signed: boolean): string {
  return `${FILE_BASENAME}-${version}-${target}${signed ? '' : '.unsigned'}.modl`;
}

/** Package folder of each scope's classes inside its jar. */
const PKG_ROOT = 'com/aimonitor/ignition/';

export function jarNames(version: string): { common: string; gateway: string; designer: string } {
  return {
    common: `aimonitor-common-${version}.jar`,
    gateway: `aimonitor-gateway-${version}.jar`,
    designer: `aimonitor-designer-${version}.jar`,
  };
}

export function manifestFor(version: string, target: IgnitionTarget): ModuleManifest {
  const jars = jarNames(version);
  return {
    name: MODULE_NAME,
    id: MODULE_ID,
    version,
    description:
      'AI recommendations for equipment anomalies in a Perspective component; operators approve, defer or reject them as their Ignition identity.',
    licenseFile: LICENSE_FILE,
    requiredIgnitionVersion: REQUIRED_IGNITION[target],
    freeModule: true,
    hooks: [
      { scope: 'G', className: GATEWAY_HOOK },
      { scope: 'D', className: DESIGNER_HOOK },
    ],
    depends: [{ scope: 'GD', moduleId: PERSPECTIVE_MODULE_ID, required: true }],
    requiredFrameworkVersion: '8',
    jars: [
      { fileName: jars.common, scope: 'GD' },
      { fileName: jars.designer, scope: 'D' },
      { fileName: jars.gateway, scope: 'G' },
    ],
  };
}

export interface AssembleInput {
  readonly moduleBuildDir: string;
  readonly workDir: string;
  readonly version: string;
  readonly target: IgnitionTarget;
  readonly component: ComponentInputs;
}

export function assembleModule(input: AssembleInput): { modl: Buffer; jars: Record<string, Buffer> } {
  const { moduleBuildDir, workDir, version, target, component } = input;
  const classes = compileJava(join(moduleBuildDir, 'java'), workDir, target);
  const names = jarNames(version);
  const commonResources: ZipEntryInput[] = [
    { name: 'aimonitor/props.json', data: component.propsSchema },
    { name: 'aimonitor/events.json', data: component.events },
    { name: 'aimonitor/web-resources.properties', data: Buffer.from(component.webResources, 'utf8') },
  ];
  const jars: Record<string, Buffer> = {
    [names.common]: buildJar([...filesAsEntries(classes.common, `${PKG_ROOT}common/`), ...commonResources]),
    [names.gateway]: buildJar([
      ...filesAsEntries(classes.gateway, `${PKG_ROOT}gateway/`),
      ...component.mounted.map((m) => ({ name: `mounted/${m.name}`, data: m.data })),
    ]),
    [names.designer]: buildJar(filesAsEntries(classes.designer, `${PKG_ROOT}designer/`)),
  };
  const modl = writeZip([
    { name: 'module.xml', data: Buffer.from(renderModuleXml(manifestFor(version, target), target), 'utf8') },
    { name: LICENSE_FILE, data: readFileSync(join(moduleBuildDir, LICENSE_FILE)) },
    ...Object.entries(jars).map(([name, data]) => ({ name, data })),
  ]);
  return { modl, jars };
}
