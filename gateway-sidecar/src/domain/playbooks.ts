/**
 * Playbooks: from the anomalous readings of one piece of equipment to an issue type, operator
 * text, a proposed setpoint change and a confidence. Pure; live setpoint values come in.
 *
 * Evidence per sensor type: the largest anomaly score, the direction of the deviation (sign of the
 * `z_score` feature, else the value against the warning level), the explanation weight, and
 * sensor-fault signs (`rolling_std` ≈ 0 while anomalous = flat line; |z| ≥ spikeZ with nothing
 * corroborating = spike; value at the instrument's range end = stuck at a rail).
 * Rules are tried in order; the first that applies to the equipment's kind and whose signature is
 * present wins (see docs/recommendations.md). A rule written for particular equipment kinds
 * (`kinds`) never fires on another kind: a pump's process flow is not a coolant flow, so a hot pump
 * is not "cooling degradation".
 */
import type { Contribution, ScoredReading, Severity } from './detection.ts';
import { SEVERITIES } from './detection.ts';
import type { Equipment, SetpointTag } from './equipment.ts';
import { needsSecondApprover, type ActionSpec } from './recommendation.ts';

export const ISSUE_TYPES = [
  'sensor_fault',
  'cavitation',
  'leak',
  'cooling_degradation',
  'bearing_wear',
  'imbalance',
  'overheating',
  'process_upset',
] as const;
export type IssueType = (typeof ISSUE_TYPES)[number];

export interface PlaybookResult {
  readonly issueType: IssueType;
  readonly severity: Severity;
  readonly anomalyScore: number;
  readonly confidence: number;
  readonly text: string;
  readonly proposedAction: ActionSpec | null;
  readonly explanation: readonly Contribution[];
  /** Source time of the earliest anomalous reading (the dedup window is taken from it). */
  readonly anomalyTsMs: number;
  readonly eventIds: readonly string[];
}

interface SensorEvidence {
  readonly maxScore: number;
  /** +1 above normal, −1 below, 0 unknown. */
  readonly direction: number;
  readonly weight: number;
  readonly flat: boolean;
  readonly spike: boolean;
  readonly atRail: boolean;
  readonly tagPath: string;
}

type Evidence = ReadonlyMap<string, SensorEvidence>;

/** Kinds with a coolant circuit (jacket, exchanger): where "cooling degradation" means something. */
export const COOLED_KINDS = ['reactor', 'heat_exchanger', 'chiller'] as const;
/** Kinds with a motor, shaft and bearings (a reactor through its agitator). */
export const ROTATING_KINDS = [
  'pump',
  'conveyor',
  'motor',
  'fan',
  'compressor',
  'mixer',
  'agitator',
  'reactor',
] as const;

interface Playbook {
  readonly issue: IssueType;
  /** Equipment kinds the rule is written for; 'any' for rules that hold for every kind. */
  readonly kinds: readonly string[] | 'any';
  /** Sensor types that make up the signature (used for confidence). */
  readonly signature: readonly string[];
  readonly prior: number;
  matches(ev: Evidence, eq: Equipment): boolean;
  /** Setpoint names to act on, in preference order, and the relative change in %. */
  readonly action: {
    readonly setpoints: readonly string[];
    readonly changePct: number;
    readonly verb: string;
  } | null;
  readonly advice: string;
}

const up = (ev: Evidence, s: string): boolean => (ev.get(s)?.direction ?? 0) > 0;
const down = (ev: Evidence, s: string): boolean => (ev.get(s)?.direction ?? 0) < 0;
const has = (ev: Evidence, s: string): boolean => ev.has(s);
const SPEED = ['speed', 'throughput'];
const THROUGHPUT = ['throughput', 'speed'];

const PLAYBOOKS: readonly Playbook[] = [
  {
    issue: 'sensor_fault',
    kinds: 'any',
    signature: [],
    prior: 0.9,
    action: null,
    matches: (ev) => ev.size === 1 && [...ev.values()].some((e) => e.flat || e.spike || e.atRail),
    advice: 'check the instrument and its wiring; no setpoint change proposed',
  },
  {
    issue: 'cavitation',
    kinds: ['pump'],
    signature: ['pressure', 'flow', 'vibration'],
    prior: 0.88,
    matches: (ev) => down(ev, 'pressure') && (has(ev, 'flow') || has(ev, 'vibration')),
    action: { setpoints: SPEED, changePct: -10, verb: 'reduce' },
    advice: 'check suction pressure and strainer',
  },
  {
    issue: 'leak',
    kinds: 'any',
    signature: ['pressure', 'flow'],
    prior: 0.85,
    matches: (ev) => down(ev, 'pressure') && has(ev, 'flow'),
    action: { setpoints: THROUGHPUT, changePct: -20, verb: 'reduce' },
    advice: 'inspect for a leak and isolate the section if confirmed',
  },
  {
    issue: 'cooling_degradation',
    kinds: COOLED_KINDS,
    signature: ['temperature', 'flow'],
    prior: 0.92,
    matches: (ev, eq) =>
      up(ev, 'temperature') && (has(ev, 'flow') || eq.setpoints.some((s) => s.name === 'coolant_valve')),
    action: { setpoints: THROUGHPUT, changePct: -20, verb: 'reduce' },
    advice: 'check coolant flow and heat exchanger fouling',
  },
  {
    issue: 'bearing_wear',
    kinds: ROTATING_KINDS,
    signature: ['vibration', 'temperature'],
    prior: 0.88,
    matches: (ev) => up(ev, 'vibration') && up(ev, 'temperature'),
    action: { setpoints: SPEED, changePct: -15, verb: 'reduce' },
    advice: 'schedule a bearing inspection and check lubrication',
  },
  {
    issue: 'imbalance',
    kinds: ROTATING_KINDS,
    signature: ['vibration'],
    prior: 0.82,
    matches: (ev) => up(ev, 'vibration'),
    action: { setpoints: SPEED, changePct: -10, verb: 'reduce' },
    advice: 'check for imbalance, misalignment or loose mounting',
  },
  {
    // A rotating machine's temperature is its bearings' or motor's: lubrication and load, not coolant.
    issue: 'overheating',
    kinds: ROTATING_KINDS.filter((k) => k !== 'reactor'),
    signature: ['temperature'],
    prior: 0.85,
    matches: (ev) => up(ev, 'temperature'),
    action: { setpoints: SPEED, changePct: -15, verb: 'reduce' },
    advice: 'check bearing lubrication, motor load and ventilation',
  },
  {
    issue: 'overheating',
    kinds: 'any',
    signature: ['temperature'],
    prior: 0.85,
    matches: (ev) => up(ev, 'temperature'),
    action: { setpoints: THROUGHPUT, changePct: -15, verb: 'reduce' },
    advice: 'check load and cooling',
  },
  {
    issue: 'process_upset',
    kinds: 'any',
    signature: [],
    prior: 0.65,
    matches: () => true,
    action: { setpoints: THROUGHPUT, changePct: -10, verb: 'reduce' },
    advice: 'review the process conditions',
  },
];

function appliesTo(p: Playbook, kind: string): boolean {
  return p.kinds === 'any' || p.kinds.includes(kind);
}

/** Each shipped rule: its issue type, the kinds it is written for, and its advice (docs and tests). */
export function playbookCatalogue(): readonly {
  issue: IssueType;
  kinds: readonly string[] | 'any';
  advice: string;
}[] {
  return PLAYBOOKS.map((p) => ({ issue: p.issue, kinds: p.kinds, advice: p.advice }));
}

export interface PlaybookOptions {
  /** |z| at or above which a lone deviation is called a spike (default 8). */
  readonly spikeZ?: number;
  /** rolling_std at or below which an anomalous sensor is called flat (default 1e-6). */
  readonly flatStd?: number;
}

function evidenceOf(anomalies: readonly ScoredReading[], opts: PlaybookOptions): Evidence {
  const spikeZ = opts.spikeZ ?? 8;
  const flatStd = opts.flatStd ?? 1e-6;
  const out = new Map<string, SensorEvidence>();
  for (const a of anomalies) {
    const tag = a.reading.tag;
    const z = a.features.z_score;
    const warn = tag.thresholds;
    let direction = 0;
    if (z !== undefined && z !== 0) direction = Math.sign(z);
    else if (warn !== undefined)
      direction = (
        warn.direction === 'high' ? a.reading.value >= warn.warning : a.reading.value <= warn.warning
      )
        ? warn.direction === 'high'
          ? 1
          : -1
        : 0;
    const std = a.features.rolling_std;
    const margin = 0.005 * (tag.engHigh - tag.engLow);
    const prev = out.get(tag.sensorType);
    const weight = a.explanation
      .filter((c) => c.sensorType === tag.sensorType)
      .reduce((s, c) => s + c.weight, 0);
    const cur: SensorEvidence = {
      maxScore: Math.max(prev?.maxScore ?? 0, a.score),
      direction: prev !== undefined && prev.maxScore >= a.score ? prev.direction : direction,
      weight: (prev?.weight ?? 0) + weight,
      flat: (prev?.flat ?? false) || (std !== undefined && std <= flatStd),
      spike: (prev?.spike ?? false) || (z !== undefined && Math.abs(z) >= spikeZ),
      atRail:
        (prev?.atRail ?? false) ||
        a.reading.value <= tag.engLow + margin ||
        a.reading.value >= tag.engHigh - margin,
      tagPath: prev?.tagPath ?? tag.tagPath,
    };
    out.set(tag.sensorType, cur);
  }
  return out;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** current × (1 + pct/100), clamped to [min, max] and to current ± maxStep; null when no change results. */
export function proposeChange(sp: SetpointTag, current: number, changePct: number): ActionSpec | null {
  let next = current * (1 + changePct / 100);
  next = Math.min(sp.max, Math.max(sp.min, next));
  next = Math.min(current + sp.maxStep, Math.max(current - sp.maxStep, next));
  next = round2(next);
  if (next < sp.min || next > sp.max) next = Math.min(sp.max, Math.max(sp.min, next));
  if (Math.abs(next - current) < 1e-9) return null;
  return {
    tagPath: sp.tagPath,
    setpointName: sp.name,
    unit: sp.unit,
    currentValue: current,
    newValue: next,
    min: sp.min,
    max: sp.max,
    maxStep: sp.maxStep,
    requiresSecondApprover: needsSecondApprover(sp, current, next),
  };
}

const LABEL: Record<IssueType, string> = {
  sensor_fault: 'Sensor fault suspected',
  cavitation: 'Cavitation',
  leak: 'Possible leak',
  cooling_degradation: 'Cooling degradation',
  bearing_wear: 'Bearing wear',
  imbalance: 'Imbalance',
  overheating: 'Overheating',
  process_upset: 'Process upset',
};

/**
 * Chooses the playbook for the anomalous readings of one piece of equipment. Returns undefined
 * when `anomalies` holds no anomaly. `liveSetpoints` maps setpoint tag path → live value.
 */
export function choosePlaybook(
  equipment: Equipment,
  anomalies: readonly ScoredReading[],
  liveSetpoints: ReadonlyMap<string, number>,
  opts: PlaybookOptions = {},
): PlaybookResult | undefined {
  const real = anomalies.filter((a) => a.isAnomaly && a.reading.tag.equipmentId === equipment.id);
  if (real.length === 0) return undefined;
  const ev = evidenceOf(real, opts);
  const pb = PLAYBOOKS.find((p) => appliesTo(p, equipment.kind) && p.matches(ev, equipment)) as Playbook; // process_upset always matches
  const maxScore = Math.max(...real.map((a) => a.score));
  const totalWeight = [...ev.values()].reduce((s, e) => s + e.weight, 0);
  const sig = pb.signature.length === 0 ? [...ev.keys()] : pb.signature;
  const sigWeight = sig.reduce((s, t) => s + (ev.get(t)?.weight ?? 0), 0);
  const share = totalWeight > 0 ? sigWeight / totalWeight : 1;
  const confidence = round2(
    Math.min(1, Math.max(0, pb.prior * (0.5 + 0.5 * maxScore) * (0.6 + 0.4 * share))),
  );

  let action: ActionSpec | null = null;
  let actionText = pb.advice;
  if (pb.action !== null) {
    const sp = pb.action.setpoints
      .map((n) => equipment.setpoints.find((s) => s.name === n))
      .find((s) => s !== undefined);
    const current = sp === undefined ? undefined : liveSetpoints.get(sp.tagPath);
    if (sp !== undefined && current !== undefined) action = proposeChange(sp, current, pb.action.changePct);
    if (action !== null) {
      const u = action.unit === '' ? '' : ` ${action.unit}`;
      actionText = `${pb.action.verb} ${action.setpointName} ${Math.abs(pb.action.changePct)} % (${action.currentValue}${u} → ${action.newValue}${u}); ${pb.advice}`;
    } else if (sp !== undefined) {
      actionText = `${pb.action.verb} ${sp.name} ${Math.abs(pb.action.changePct)} % when possible (live value unknown or at its limit); ${pb.advice}`;
    }
  }
  const sensors = [...ev.keys()].sort().join(', ');
  const severity = real.reduce<Severity>(
    (s, a) => (SEVERITIES.indexOf(a.severity) > SEVERITIES.indexOf(s) ? a.severity : s),
    'low',
  );
  const explanation = real
    .flatMap((a) => a.explanation)
    .sort((a, b) => b.weight - a.weight)
    .slice(0, 5);
  return {
    issueType: pb.issue,
    severity,
    anomalyScore: maxScore,
    confidence,
    text: `${LABEL[pb.issue]} on ${equipment.id}: ${actionText}. Evidence: ${sensors}.`,
    proposedAction: action,
    explanation,
    anomalyTsMs: Math.min(...real.map((a) => a.reading.sourceTimestampMs)),
    eventIds: real.map((a) => a.eventId),
  };
}
