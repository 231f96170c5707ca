/**
 * The `module.xml` manifest. Elements are written in the order of Inductive Automation's gradle
 * plugin (ignition-sdk-notes.md §1.2): name, id, version, description, license,
 * requiredIgnitionVersion, freeModule, hook*, depends*, requiredFrameworkVersion, jar*.
 */

export type IgnitionTarget = '8.1' | '8.3';

export interface ModuleJar {
  readonly fileName: string;
  /** Scope letters: G gateway, D designer, C Vision client (ignition-sdk-notes.md §1.3). */
  readonly scope: string;
}

export interface ModuleManifest {
  readonly name: string;
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly licenseFile: string;
  readonly requiredIgnitionVersion: string;
  readonly freeModule: boolean;
  readonly hooks: readonly { scope: 'G' | 'D' | 'C'; className: string }[];
  readonly depends: readonly { scope: string; moduleId: string; required?: boolean }[];
  readonly requiredFrameworkVersion: string;
  readonly jars: readonly ModuleJar[];
}

/** Element names in the order the gateway's own tooling writes them; verify checks against it. */
export const ELEMENT_ORDER = [
  'name',
  'id',
  'version',
  'description',
  'license',
  'requiredIgnitionVersion',
  'freeModule',
  'hook',
  'depends',
  'requiredFrameworkVersion',
  'jar',
] as const;

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderModuleXml(m: ModuleManifest, target: IgnitionTarget): string {
  if (!/^\d+\.\d+\.\d+(\.\d+)?$/.test(m.version)) {
    // 8.3 was seen rejecting non-numeric versions ("Exception parsing module.xml"), notes §1.2.
    throw new Error(`module version must be numeric x.y.z[.build], got '${m.version}'`);
  }
  const el = (name: string, value: string, attrs = ''): string =>
    `    <${name}${attrs}>${xmlText(value)}</${name}>`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<modules>',
    '  <module>',
    el('name', m.name),
    el('id', m.id),
    el('version', m.version),
    el('description', m.description),
    el('license', m.licenseFile),
    el('requiredIgnitionVersion', m.requiredIgnitionVersion),
    el('freeModule', String(m.freeModule)),
    ...m.hooks.map((h) => el('hook', h.className, ` scope="${h.scope}"`)),
    // The `required` attribute exists only from 8.3 on; the plugin omits it for older targets.
    ...m.depends.map((d) =>
      el(
        'depends',
        d.moduleId,
        ` scope="${d.scope}"${target === '8.3' ? ` required="${String(d.required ?? true)}"` : ''}`,
      ),
    ),
    el('requiredFrameworkVersion', m.requiredFrameworkVersion),
    ...m.jars.map((j) => el('jar', j.fileName, ` scope="${j.scope}"`)),
    '  </module>',
    '</modules>',
  ];
  return `${lines.join('\n')}\n`;
}

export interface ParsedElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly text: string;
}

/**
 * Reads the flat `<module>` children back. module.xml has no nesting below `<module>`, so a small
 * scanner is enough; anything else (nested elements, a second module) is reported as malformed.
 */
export function parseModuleXml(xml: string): ParsedElement[] {
  const body = /<modules>\s*<module>([\s\S]*)<\/module>\s*<\/modules>/.exec(xml);
  if (!body) throw new Error('module.xml must hold <modules><module>…</module></modules>');
  const inner = body[1] as string;
  const out: ParsedElement[] = [];
  const re = /<([A-Za-z]+)((?:\s+[A-Za-z]+="[^"]*")*)\s*>([^<]*)<\/\1>/g;
  let last = 0;
  for (let m = re.exec(inner); m; m = re.exec(inner)) {
    if (inner.slice(last, m.index).trim() !== '')
      throw new Error(
        `module.xml has unexpected content near '${inner.slice(last, m.index).trim().slice(0, 40)}'`,
      );
    last = re.lastIndex;
    const attrs: Record<string, string> = {};
    for (const a of (m[2] as string).matchAll(/([A-Za-z]+)="([^"]*)"/g))
      attrs[a[1] as string] = a[2] as string;
    const text = (m[3] as string)
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
    out.push({ name: m[1] as string, attrs, text });
  }
  if (inner.slice(last).trim() !== '')
    throw new Error('module.xml has unexpected trailing content inside <module>');
  return out;
}
