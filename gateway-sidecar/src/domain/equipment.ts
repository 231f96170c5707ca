/**
 * The equipment map: which tag belongs to which piece of equipment, what it measures, its
 * engineering limits and alarm thresholds, and which setpoints an action may write.
 * Pure data types plus a lookup index built once at start-up (STYLE.md §7: compute at setup).
 */

/** Warning / critical / emergency levels for one sensor (the seed's ANOMALY_THRESHOLDS). */
export interface Thresholds {
  readonly warning: number;
  readonly critical: number;
  readonly emergency: number;
  /** 'high': alarm when the value rises above the level; 'low': when it falls below. */
  readonly direction: 'high' | 'low';
}

export interface SensorTag {
  readonly tagPath: string;
  readonly equipmentId: string;
  readonly sensorType: string;
  readonly unit: string;
  /** Engineering range of the instrument; readings outside it are physically implausible. */
  readonly engLow: number;
  readonly engHigh: number;
  readonly thresholds: Thresholds | undefined;
}

export interface SetpointTag {
  readonly tagPath: string;
  readonly equipmentId: string;
  /** Short name used by playbooks, e.g. 'throughput', 'speed', 'coolant_flow'. */
  readonly name: string;
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  /** Largest allowed change in one write, in engineering units. */
  readonly maxStep: number;
  /** Changes whose size exceeds this fraction of (max - min) need a second approver. */
  readonly twoPersonAbovePct: number;
}

export interface Equipment {
  readonly id: string;
  readonly area: string;
  readonly kind: string;
  readonly description: string;
  readonly sensors: readonly SensorTag[];
  readonly setpoints: readonly SetpointTag[];
  /** Optional tag whose value names the operating mode (e.g. 'RUN', 'MAINTENANCE', 'STARTUP'). */
  readonly modeTag: string | undefined;
  /**
   * The plant's own values of the mode tag → operating mode (config `equipment[].modeValues`, e.g.
   * {"0": "RUN", "2": "MAINTENANCE"}); keys match trimmed and case-insensitively. Values not listed
   * must name a mode themselves (domain/alarm-discipline.ts canonicalMode).
   */
  readonly modeValues?: Readonly<Record<string, string>>;
}

/** Index built once from config; lookups on the hot path are a single Map.get. */
export interface EquipmentIndex {
  readonly equipment: ReadonlyMap<string, Equipment>;
  readonly sensorsByTag: ReadonlyMap<string, SensorTag & { readonly sensorIndex: number }>;
  readonly setpointsByTag: ReadonlyMap<string, SetpointTag>;
  readonly modeTags: ReadonlyMap<string, string>;
  /** Number of sensor tags; sensorIndex is in [0, sensorCount). */
  readonly sensorCount: number;
}

/** Builds the lookup index. Throws a plain Error naming the duplicate tag (config validation wraps it). */
export function buildEquipmentIndex(list: readonly Equipment[]): EquipmentIndex {
  const equipment = new Map<string, Equipment>();
  const sensorsByTag = new Map<string, SensorTag & { sensorIndex: number }>();
  const setpointsByTag = new Map<string, SetpointTag>();
  const modeTags = new Map<string, string>();
  let sensorIndex = 0;
  for (const eq of list) {
    if (equipment.has(eq.id)) throw new Error(`equipment id '${eq.id}' is defined twice`);
    equipment.set(eq.id, eq);
    for (const s of eq.sensors) {
      if (sensorsByTag.has(s.tagPath) || setpointsByTag.has(s.tagPath)) {
        throw new Error(`tag '${s.tagPath}' is mapped twice`);
      }
      sensorsByTag.set(s.tagPath, { ...s, sensorIndex: sensorIndex++ });
    }
    for (const sp of eq.setpoints) {
      if (sensorsByTag.has(sp.tagPath) || setpointsByTag.has(sp.tagPath)) {
        throw new Error(`tag '${sp.tagPath}' is mapped twice`);
      }
      setpointsByTag.set(sp.tagPath, sp);
    }
    if (eq.modeTag !== undefined) modeTags.set(eq.modeTag, eq.id);
  }
  return { equipment, sensorsByTag, setpointsByTag, modeTags, sensorCount: sensorIndex };
}
