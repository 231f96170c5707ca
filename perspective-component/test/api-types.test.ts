// @vitest-environment node
/**
 * The component mirrors the sidecar's API types instead of importing them (no sidecar code in the
 * bundle). This test parses both files with the TypeScript compiler and fails when a mirrored
 * interface gains, loses or retypes a member on either side.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** Type text without formatting: whitespace, a leading '|' and a last ';' before '}' do not count. */
function norm(text: string): string {
  return text.replace(/\s+/g, '').replace(/^\|/, '').replace(/;}/g, '}');
}

function members(...files: string[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const file of files) {
    const path = fileURLToPath(new URL(file, import.meta.url));
    if (existsSync(path)) for (const [k, v] of membersOf(path)) out.set(k, v);
  }
  return out;
}

function membersOf(path: string): Map<string, Record<string, string>> {
  const src = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = new Map<string, Record<string, string>>();
  src.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    const fields: Record<string, string> = {};
    for (const m of node.members) {
      if (ts.isPropertySignature(m) && m.type) {
        const optional = m.questionToken ? '?' : '';
        fields[m.name.getText(src) + optional] = norm(m.type.getText(src));
      }
    }
    out.set(node.name.text, fields);
  });
  return out;
}

function aliases(...files: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of files) {
    const path = fileURLToPath(new URL(file, import.meta.url));
    if (!existsSync(path)) continue;
    const src = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    src.forEachChild((node) => {
      if (ts.isTypeAliasDeclaration(node)) out.set(node.name.text, norm(node.type.getText(src)));
    });
  }
  return out;
}

// The sidecar keeps these types in app/recommendation-service.ts and/or domain/recommendation-view.ts.
const SIDECAR_FILES = [
  '../../gateway-sidecar/src/app/recommendation-service.ts',
  '../../gateway-sidecar/src/domain/recommendation-view.ts',
];

const ours = members('../src/api/types.ts');
const service = members(...SIDECAR_FILES);
const detection = members('../../gateway-sidecar/src/domain/detection.ts');

describe('API types mirror the sidecar contract', () => {
  for (const name of [
    'Recommendation',
    'ProposedAction',
    'WriteResult',
    'DecisionRequest',
    'ListFilter',
    'OutcomeView',
    'OutcomeActivity',
    'PatternHistory',
  ] as const) {
    it(name, () => {
      expect(ours.get(name)).toEqual(service.get(name));
    });
  }

  it('Contribution', () => {
    expect(ours.get('Contribution')).toEqual(detection.get('Contribution'));
  });

  it('Change (the alert type is CriticalAlertView on the sidecar, CriticalAlert here)', () => {
    const theirs = { ...service.get('Change') };
    expect(theirs['alert?']).toBe('CriticalAlertView');
    delete theirs['alert?'];
    const mine = { ...ours.get('Change') };
    expect(mine['alert?']).toBe('CriticalAlert');
    delete mine['alert?'];
    expect(mine).toEqual(theirs);
    expect(ours.get('CriticalAlert')).toEqual(service.get('CriticalAlertView'));
  });

  it('status, decision and severity unions', () => {
    const a = aliases('../src/api/types.ts');
    const s = aliases(...SIDECAR_FILES);
    const d = aliases('../../gateway-sidecar/src/domain/detection.ts');
    expect(a.get('RecommendationStatus')).toBe(s.get('RecommendationStatus'));
    expect(a.get('Decision')).toBe(s.get('Decision'));
    expect(a.get('WriteOutcome')).toBe(s.get('WriteOutcome'));
    expect(a.get('WriteOutcome')).toBeDefined();
    expect(a.get('Severity')).toBe(d.get('Severity'));
  });
});
