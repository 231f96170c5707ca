// @vitest-environment node
/**
 * The component mirrors the sidecar's API types instead of importing them (no sidecar code in the
 * bundle). This test parses both files with the TypeScript compiler and fails when a mirrored
 * interface gains, loses or retypes a member on either side.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

function members(file: string): Map<string, Record<string, string>> {
  const path = fileURLToPath(new URL(file, import.meta.url));
  const src = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = new Map<string, Record<string, string>>();
  src.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    const fields: Record<string, string> = {};
    for (const m of node.members) {
      if (ts.isPropertySignature(m) && m.type) {
        const optional = m.questionToken ? '?' : '';
        fields[m.name.getText(src) + optional] = m.type.getText(src).replace(/\s+/g, ' ');
      }
    }
    out.set(node.name.text, fields);
  });
  return out;
}

function aliases(file: string): Map<string, string> {
  const path = fileURLToPath(new URL(file, import.meta.url));
  const src = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = new Map<string, string>();
  src.forEachChild((node) => {
    if (ts.isTypeAliasDeclaration(node)) out.set(node.name.text, node.type.getText(src).replace(/\s+/g, ' '));
  });
  return out;
}

const ours = members('../src/api/types.ts');
const service = members('../../gateway-sidecar/src/app/recommendation-service.ts');
const detection = members('../../gateway-sidecar/src/domain/detection.ts');

describe('API types mirror the sidecar contract', () => {
  for (const name of ['Recommendation', 'ProposedAction', 'WriteResult', 'DecisionRequest', 'ListFilter'] as const) {
    it(name, () => {
      expect(ours.get(name)).toEqual(service.get(name));
    });
  }

  it('Contribution', () => {
    expect(ours.get('Contribution')).toEqual(detection.get('Contribution'));
  });

  it('Change (alert inlined on the sidecar, named CriticalAlert here)', () => {
    const theirs = { ...service.get('Change') };
    const alertShape = theirs['alert?'];
    delete theirs['alert?'];
    const mine = { ...ours.get('Change') };
    expect(mine['alert?']).toBe('CriticalAlert');
    delete mine['alert?'];
    expect(mine).toEqual(theirs);
    const keys = Object.keys(ours.get('CriticalAlert') ?? {});
    for (const k of keys) expect(alertShape).toContain(`${k}:`);
  });

  it('status, decision and severity unions', () => {
    const a = aliases('../src/api/types.ts');
    const s = aliases('../../gateway-sidecar/src/app/recommendation-service.ts');
    const d = aliases('../../gateway-sidecar/src/domain/detection.ts');
    expect(a.get('RecommendationStatus')).toBe(s.get('RecommendationStatus'));
    expect(a.get('Decision')).toBe(s.get('Decision'));
    expect(a.get('Severity')).toBe(d.get('Severity'));
  });
});
