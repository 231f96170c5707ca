/**
 * Physics of the demo plant (REACTOR_01, PUMP_02, CONVEYOR_03 of default-plant.ts): first-order
 * thermal lags, pump affinity-law style couplings and the process effects of faults. Pure: the
 * caller passes the elapsed simulated seconds, the fault loads and the random generator.
 *
 * The constants are chosen so the demo tells a true story: with cooling degraded to its floor the
 * reactor settles near 94 °C (past the 90 °C emergency level) at 80 % throughput, and near 76 °C
 * (under the 80 °C warning) after the playbook's ~20 % throughput cut.
 */
import type { SeededRandom } from './plant-random.ts';

const R = '[default]Reactors/R01/';
const P = '[default]Utilities/P02/';
const C = '[default]Materials/C03/';

/** Every tag the simulator drives, by role. Equal to the tag paths in default-plant.ts (tested). */
export const PLANT_TAGS = {
  reactorTemperature: `${R}Temperature`,
  reactorPressure: `${R}Pressure`,
  reactorVibration: `${R}Vibration`,
  reactorCoolantFlow: `${R}CoolantFlow`,
  reactorAgitatorCurrent: `${R}AgitatorCurrent`,
  reactorThroughputSp: `${R}Throughput_SP`,
  reactorCoolantValveSp: `${R}CoolantValve_SP`,
  reactorMode: `${R}Mode`,
  pumpVibration: `${P}Vibration`,
  pumpDischargePressure: `${P}DischargePressure`,
  pumpFlow: `${P}Flow`,
  pumpMotorCurrent: `${P}MotorCurrent`,
  pumpBearingTemperature: `${P}BearingTemperature`,
  pumpSpeedSp: `${P}Speed_SP`,
  pumpMode: `${P}Mode`,
  conveyorMotorCurrent: `${C}MotorCurrent`,
  conveyorVibration: `${C}Vibration`,
  conveyorMotorTemperature: `${C}MotorTemperature`,
  conveyorBeltSpeed: `${C}BeltSpeed`,
  conveyorThroughputSp: `${C}Throughput_SP`,
  conveyorMode: `${C}Mode`,
} as const;

/** Setpoint tags with their starting value and the physically sane range the simulator accepts. */
export const PLANT_SETPOINTS: ReadonlyMap<
  string,
  { readonly initial: number; readonly low: number; readonly high: number }
> = new Map([
  [PLANT_TAGS.reactorThroughputSp, { initial: 80, low: 0, high: 100 }],
  [PLANT_TAGS.reactorCoolantValveSp, { initial: 60, low: 0, high: 100 }],
  [PLANT_TAGS.pumpSpeedSp, { initial: 75, low: 0, high: 100 }],
  [PLANT_TAGS.conveyorThroughputSp, { initial: 70, low: 0, high: 100 }],
]);

/** Sensor tags with their equipment, engineering range and measurement noise (1 sigma). */
export const PLANT_SENSORS: ReadonlyMap<
  string,
  { readonly equipmentId: string; readonly low: number; readonly high: number; readonly noise: number }
> = new Map([
  [PLANT_TAGS.reactorTemperature, { equipmentId: 'REACTOR_01', low: 0, high: 150, noise: 0.15 }],
  [PLANT_TAGS.reactorPressure, { equipmentId: 'REACTOR_01', low: 0, high: 10, noise: 0.03 }],
  [PLANT_TAGS.reactorVibration, { equipmentId: 'REACTOR_01', low: 0, high: 20, noise: 0.05 }],
  [PLANT_TAGS.reactorCoolantFlow, { equipmentId: 'REACTOR_01', low: 0, high: 60, noise: 0.2 }],
  [PLANT_TAGS.reactorAgitatorCurrent, { equipmentId: 'REACTOR_01', low: 0, high: 60, noise: 0.2 }],
  [PLANT_TAGS.pumpVibration, { equipmentId: 'PUMP_02', low: 0, high: 20, noise: 0.05 }],
  [PLANT_TAGS.pumpDischargePressure, { equipmentId: 'PUMP_02', low: 0, high: 16, noise: 0.05 }],
  [PLANT_TAGS.pumpFlow, { equipmentId: 'PUMP_02', low: 0, high: 120, noise: 0.4 }],
  [PLANT_TAGS.pumpMotorCurrent, { equipmentId: 'PUMP_02', low: 0, high: 80, noise: 0.25 }],
  [PLANT_TAGS.pumpBearingTemperature, { equipmentId: 'PUMP_02', low: 0, high: 150, noise: 0.15 }],
  [PLANT_TAGS.conveyorMotorCurrent, { equipmentId: 'CONVEYOR_03', low: 0, high: 100, noise: 0.3 }],
  [PLANT_TAGS.conveyorVibration, { equipmentId: 'CONVEYOR_03', low: 0, high: 20, noise: 0.05 }],
  [PLANT_TAGS.conveyorMotorTemperature, { equipmentId: 'CONVEYOR_03', low: 0, high: 150, noise: 0.15 }],
  [PLANT_TAGS.conveyorBeltSpeed, { equipmentId: 'CONVEYOR_03', low: 0, high: 5, noise: 0.01 }],
]);

export const PLANT_MODE_TAGS: readonly string[] = [
  PLANT_TAGS.reactorMode,
  PLANT_TAGS.pumpMode,
  PLANT_TAGS.conveyorMode,
];

/** Process effects of the active faults at one instant (1 / 0 / 0 when healthy). */
export interface ProcessLoad {
  /** Reactor cooling effectiveness, 1 healthy, down to ~0.2 when fouled / the coolant pump fails. */
  readonly coolingHealth: number;
  /** Bearing wear per equipment id, 0..1. */
  readonly bearingWear: ReadonlyMap<string, number>;
  /** Pump cavitation severity, 0..1 (its effect also depends on the pump speed). */
  readonly cavitation: number;
}

export const HEALTHY_LOAD: ProcessLoad = { coolingHealth: 1, bearingWear: new Map(), cavitation: 0 };

/** Lagged (stateful) process variables; everything else is algebraic in the setpoints. */
export interface PhysicsState {
  reactorTempC: number;
  pumpBearingTempC: number;
  conveyorMotorTempC: number;
  /** Simulated seconds since start, for the cavitation oscillation. */
  elapsedSec: number;
}

/** Reactor temperature the loop settles at for a throughput, valve opening and cooling health. */
export function reactorEquilibriumC(
  throughputPct: number,
  coolantValvePct: number,
  coolingHealth: number,
): number {
  return 12 + 1.1 * throughputPct - 0.5 * coolantValvePct * coolingHealth;
}

/** A setpoint's value, 0 when the map lacks it (a stopped unit). */
function spv(sp: ReadonlyMap<string, number>, tag: string): number {
  return sp.get(tag) ?? 0;
}

function wearOf(load: ProcessLoad, equipmentId: string): number {
  return load.bearingWear.get(equipmentId) ?? 0;
}

function lag(current: number, target: number, dtSec: number, tauSec: number): number {
  return target + (current - target) * Math.exp(-dtSec / tauSec);
}

/** Starting state: every lag at its healthy equilibrium for the initial setpoints. */
export function initialPhysicsState(sp: ReadonlyMap<string, number>): PhysicsState {
  const state: PhysicsState = { reactorTempC: 0, pumpBearingTempC: 0, conveyorMotorTempC: 0, elapsedSec: 0 };
  const eq = equilibria(sp, HEALTHY_LOAD);
  state.reactorTempC = eq.reactor;
  state.pumpBearingTempC = eq.bearing;
  state.conveyorMotorTempC = eq.motor;
  return state;
}

function equilibria(
  sp: ReadonlyMap<string, number>,
  load: ProcessLoad,
): { reactor: number; bearing: number; motor: number } {
  const thr = spv(sp, PLANT_TAGS.reactorThroughputSp);
  const valve = spv(sp, PLANT_TAGS.reactorCoolantValveSp);
  const speed = spv(sp, PLANT_TAGS.pumpSpeedSp);
  const convThr = spv(sp, PLANT_TAGS.conveyorThroughputSp);
  const pumpWear = wearOf(load, 'PUMP_02');
  return {
    reactor: reactorEquilibriumC(thr, valve, load.coolingHealth),
    bearing: 40 + 0.2 * speed + 12 * pumpWear * (speed / 75) ** 2,
    motor: 35 + 0.35 * (20 + 0.6 * convThr),
  };
}

/**
 * Advances the lags by `dtSec` and returns the noisy process value of every sensor tag
 * (before any sensor fault). Mutates `state`.
 */
export function stepPhysics(
  state: PhysicsState,
  sp: ReadonlyMap<string, number>,
  load: ProcessLoad,
  dtSec: number,
  rng: SeededRandom,
): Map<string, number> {
  const eq = equilibria(sp, load);
  state.reactorTempC = lag(state.reactorTempC, eq.reactor, dtSec, 120);
  state.pumpBearingTempC = lag(state.pumpBearingTempC, eq.bearing, dtSec, 180);
  state.conveyorMotorTempC = lag(state.conveyorMotorTempC, eq.motor, dtSec, 240);
  state.elapsedSec += dtSec;
  const thr = spv(sp, PLANT_TAGS.reactorThroughputSp);
  const valve = spv(sp, PLANT_TAGS.reactorCoolantValveSp);
  const speed = spv(sp, PLANT_TAGS.pumpSpeedSp);
  const convThr = spv(sp, PLANT_TAGS.conveyorThroughputSp);
  // Cavitation needs suction margin to run out, which happens at high speed: slowing the pump cures it.
  const cav = load.cavitation * Math.min(1, Math.max(0, (speed - 55) / 20));
  const wave = Math.sin(2 * Math.PI * 0.2 * state.elapsedSec);
  const pumpWear = wearOf(load, 'PUMP_02');
  const convWear = wearOf(load, 'CONVEYOR_03');
  const out = new Map<string, number>([
    [PLANT_TAGS.reactorTemperature, state.reactorTempC],
    [PLANT_TAGS.reactorPressure, 2 + 0.03 * (state.reactorTempC - 20) + 0.01 * thr],
    [PLANT_TAGS.reactorVibration, 1.5 + 0.005 * thr + wearOf(load, 'REACTOR_01') * 2],
    [PLANT_TAGS.reactorCoolantFlow, 0.5 * valve * load.coolingHealth],
    [PLANT_TAGS.reactorAgitatorCurrent, 20 + 0.15 * thr],
    [
      PLANT_TAGS.pumpVibration,
      1.2 + 0.015 * speed + 2 * pumpWear * (speed / 75) ** 2 + 2 * cav * (0.7 + 0.3 * Math.abs(wave)),
    ],
    [PLANT_TAGS.pumpDischargePressure, 2 + 10 * (speed / 100) ** 2 - (1.5 * cav * (1 + wave)) / 2],
    [PLANT_TAGS.pumpFlow, 1.1 * speed - (8 * cav * (1 + wave)) / 2],
    [PLANT_TAGS.pumpMotorCurrent, 12 + 0.45 * speed - 3 * cav * Math.abs(wave)],
    [PLANT_TAGS.pumpBearingTemperature, state.pumpBearingTempC],
    [PLANT_TAGS.conveyorMotorCurrent, 20 + 0.6 * convThr],
    [PLANT_TAGS.conveyorVibration, 1 + 0.01 * convThr + 2 * convWear * (convThr / 70) ** 2],
    [PLANT_TAGS.conveyorMotorTemperature, state.conveyorMotorTempC],
    [PLANT_TAGS.conveyorBeltSpeed, 1 + 0.025 * convThr],
  ]);
  for (const [tag, spec] of PLANT_SENSORS) {
    const v = (out.get(tag) as number) + spec.noise * rng.normal();
    out.set(tag, Math.min(spec.high, Math.max(spec.low, v)));
  }
  return out;
}
