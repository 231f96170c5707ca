import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  authorizeWrite,
  canDecide,
  dueTransition,
  needsSecondApprover,
  planDecision,
  type ActionSpec,
  type DecidableState,
  type DecisionActor,
} from './recommendation.ts';
import type { SetpointTag } from './equipment.ts';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const POLICY = { maxDeferMs: 24 * 3_600_000 };
const alice: DecisionActor = { user: 'alice', roles: ['operator'] };
const bob: DecisionActor = { user: 'bob', roles: ['engineer'] };
const vic: DecisionActor = { user: 'vic', roles: ['viewer'] };
const SP: SetpointTag = {
  tagPath: 'R/SP',
  equipmentId: 'R',
  name: 'throughput',
  unit: '%',
  min: 40,
  max: 100,
  maxStep: 25,
  twoPersonAbovePct: 0.2,
};
const small: ActionSpec = {
  tagPath: 'R/SP',
  setpointName: 'throughput',
  unit: '%',
  currentValue: 80,
  newValue: 72,
  min: 40,
  max: 100,
  maxStep: 25,
  requiresSecondApprover: false,
};
const big: ActionSpec = { ...small, newValue: 60, requiresSecondApprover: true };

function st(over: Partial<DecidableState> = {}): DecidableState {
  return { status: 'pending', version: 3, proposedAction: small, approvals: [], ...over };
}

test('viewer cannot decide; operator and engineer can', () => {
  assert.equal(canDecide(vic), false);
  assert.equal(canDecide(alice) && canDecide(bob), true);
  const r = planDecision(st(), { decision: 'approve', expectedVersion: 3 }, vic, NOW, POLICY);
  assert.deepEqual(r.ok ? null : r.kind, 'forbidden');
});

test('stale version is a conflict; final states are a conflict', () => {
  const r = planDecision(st(), { decision: 'approve', expectedVersion: 2 }, alice, NOW, POLICY);
  assert.equal(!r.ok && r.kind, 'conflict');
  for (const status of ['approved', 'rejected', 'executed', 'failed', 'expired'] as const) {
    const x = planDecision(
      st({ status }),
      { decision: 'reject', note: 'n', expectedVersion: 3 },
      alice,
      NOW,
      POLICY,
    );
    assert.equal(!x.ok && x.kind, 'conflict', status);
  }
});

test('reject requires a note', () => {
  for (const note of [undefined, '', '   ']) {
    const r = planDecision(st(), { decision: 'reject', note, expectedVersion: 3 }, alice, NOW, POLICY);
    assert.equal(!r.ok && r.kind, 'validation');
    assert.match(!r.ok ? r.message : '', /note/);
  }
  const ok = planDecision(
    st(),
    { decision: 'reject', note: ' false alarm ', expectedVersion: 3 },
    alice,
    NOW,
    POLICY,
  );
  assert.ok(ok.ok);
  assert.equal(ok.toStatus, 'rejected');
  assert.equal(ok.note, 'false alarm');
});

test('defer requires a future deferUntil within the limit', () => {
  const bad = [
    undefined,
    'tomorrow',
    new Date(NOW - 1).toISOString(),
    new Date(NOW + 25 * 3_600_000).toISOString(),
  ];
  for (const deferUntil of bad) {
    const r = planDecision(st(), { decision: 'defer', deferUntil, expectedVersion: 3 }, alice, NOW, POLICY);
    assert.equal(!r.ok && r.kind, 'validation', String(deferUntil));
    assert.match(!r.ok ? r.message : '', /deferUntil/);
  }
  const until = new Date(NOW + 3_600_000).toISOString();
  const ok = planDecision(
    st(),
    { decision: 'defer', deferUntil: until, expectedVersion: 3 },
    alice,
    NOW,
    POLICY,
  );
  assert.ok(ok.ok);
  assert.equal(ok.toStatus, 'deferred');
  assert.equal(ok.deferredUntilMs, NOW + 3_600_000);
  // a deferred one can be approved later
  const again = planDecision(
    st({ status: 'deferred' }),
    { decision: 'approve', expectedVersion: 3 },
    alice,
    NOW,
    POLICY,
  );
  assert.ok(again.ok && again.toStatus === 'approved');
});

test('approve: one approver for a small change', () => {
  const r = planDecision(st(), { decision: 'approve', expectedVersion: 3 }, alice, NOW, POLICY);
  assert.ok(r.ok);
  assert.equal(r.toStatus, 'approved');
  assert.equal(r.auditAction, 'approve');
  assert.deepEqual(r.approvals, [{ user: 'alice', atMs: NOW }]);
});

test('two-person rule: first approval is recorded, the same user cannot be the second', () => {
  const first = planDecision(
    st({ proposedAction: big }),
    { decision: 'approve', expectedVersion: 3 },
    alice,
    NOW,
    POLICY,
  );
  assert.ok(first.ok);
  assert.equal(first.toStatus, 'pending');
  assert.equal(first.auditAction, 'approval_recorded');
  const after = st({ proposedAction: big, approvals: first.approvals, version: 4 });
  const same = planDecision(after, { decision: 'approve', expectedVersion: 4 }, alice, NOW, POLICY);
  assert.equal(!same.ok && same.kind, 'forbidden');
  const viewer = planDecision(after, { decision: 'approve', expectedVersion: 4 }, vic, NOW, POLICY);
  assert.equal(!viewer.ok && viewer.kind, 'forbidden');
  const second = planDecision(after, { decision: 'approve', expectedVersion: 4 }, bob, NOW + 1, POLICY);
  assert.ok(second.ok);
  assert.equal(second.toStatus, 'approved');
  assert.deepEqual(
    second.approvals.map((a) => a.user),
    ['alice', 'bob'],
  );
});

test('due transitions: deferred resumes at deferUntil, pending expires after the age', () => {
  const H = 3_600_000;
  assert.equal(dueTransition({ status: 'deferred', createdAtMs: 0, deferredUntilMs: NOW }, NOW, H), 'resume');
  assert.equal(dueTransition({ status: 'deferred', createdAtMs: 0, deferredUntilMs: NOW + 1 }, NOW, H), null);
  assert.equal(
    dueTransition({ status: 'pending', createdAtMs: NOW - H, deferredUntilMs: null }, NOW, H),
    'expire',
  );
  assert.equal(
    dueTransition({ status: 'pending', createdAtMs: NOW - H + 1, deferredUntilMs: null }, NOW, H),
    null,
  );
  assert.equal(dueTransition({ status: 'approved', createdAtMs: 0, deferredUntilMs: null }, NOW, H), null);
});

test('needsSecondApprover compares the change with the fraction of the range', () => {
  assert.equal(needsSecondApprover(SP, 80, 68), false); // 12 = 20 % of 60: not above
  assert.equal(needsSecondApprover(SP, 80, 67.9), true);
});

const approved = {
  purpose: 'apply' as const,
  setpoint: SP,
  status: 'approved' as const,
  approvals: [{ user: 'alice', atMs: NOW }],
};

test('authorizeWrite produces an ApprovedWrite only within range, step and approvals', () => {
  const ok = authorizeWrite({ ...approved, target: 72, liveValue: 80 });
  assert.ok(ok.ok);
  assert.deepEqual(
    { ...ok.write },
    { tagPath: 'R/SP', value: 72, liveValue: 80, purpose: 'apply', approvers: ['alice'] },
  );
  const cases: [Parameters<typeof authorizeWrite>[0], string][] = [
    [{ ...approved, status: 'pending', target: 72, liveValue: 80 }, 'not_approved'],
    [{ ...approved, approvals: [], target: 72, liveValue: 80 }, 'not_approved'],
    [{ ...approved, target: 72, liveValue: undefined }, 'unknown_live_value'],
    [{ ...approved, target: 72, liveValue: Number.NaN }, 'unknown_live_value'],
    [{ ...approved, target: 39, liveValue: 45 }, 'out_of_range'],
    [{ ...approved, target: 101, liveValue: 95 }, 'out_of_range'],
    [{ ...approved, target: Number.POSITIVE_INFINITY, liveValue: 95 }, 'out_of_range'],
    [{ ...approved, target: 50, liveValue: 80 }, 'step_too_large'],
    [{ ...approved, target: 62, liveValue: 80 }, 'two_person_required'],
  ];
  for (const [req, code] of cases) {
    const r = authorizeWrite(req);
    assert.equal(r.ok ? 'ok' : r.code, code, JSON.stringify(req));
    assert.ok(!r.ok && r.reason.length > 10);
  }
  const two = authorizeWrite({
    ...approved,
    approvals: [...approved.approvals, { user: 'bob', atMs: NOW }],
    target: 62,
    liveValue: 80,
  });
  assert.ok(two.ok);
});

test('revert: only an engineer, only an executed write, still within limits', () => {
  const base = {
    purpose: 'revert' as const,
    setpoint: SP,
    status: 'executed' as const,
    approvals: [],
    target: 80,
    liveValue: 72,
  };
  assert.equal((authorizeWrite({ ...base, reverter: alice }) as { code: string }).code, 'not_engineer');
  assert.equal((authorizeWrite(base) as { code: string }).code, 'not_engineer');
  assert.equal(
    (authorizeWrite({ ...base, status: 'approved', reverter: bob }) as { code: string }).code,
    'not_approved',
  );
  const ok = authorizeWrite({ ...base, reverter: bob });
  assert.ok(ok.ok);
  assert.deepEqual(ok.write.approvers, ['bob']);
  assert.equal(ok.write.purpose, 'revert');
  assert.equal(
    (authorizeWrite({ ...base, reverter: bob, liveValue: 40, target: 80 }) as { code: string }).code,
    'step_too_large',
  );
});
