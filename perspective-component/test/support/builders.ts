/** Builders for API-shaped test data. */
import type { Recommendation } from '../../src/api/types.ts';

let n = 0;

export function buildRecommendation(overrides: Partial<Recommendation> = {}): Recommendation {
  n += 1;
  return {
    id: `rec-${n}`,
    equipmentId: 'REACTOR_01',
    area: 'reactors',
    issueType: 'cooling_degradation',
    severity: 'high',
    anomalyScore: 0.82,
    confidence: 0.87,
    text: 'Cooling is falling behind the heat load. Lower the jacket temperature setpoint.',
    explanation: [
      {
        feature: 'z_score',
        sensorType: 'temperature',
        tagPath: '[default]Reactors/R01/Temperature',
        value: 3.4,
        weight: 0.55,
      },
      {
        feature: 'rate_of_change',
        sensorType: 'temperature',
        tagPath: '[default]Reactors/R01/Temperature',
        value: 0.8,
        weight: 0.25,
      },
    ],
    proposedAction: {
      tagPath: '[default]Reactors/R01/CoolingSetpoint',
      setpointName: 'Cooling water setpoint',
      unit: '°C',
      currentValue: 45,
      newValue: 40,
      min: 20,
      max: 60,
      maxStep: 10,
      requiresSecondApprover: false,
    },
    status: 'pending',
    createdAt: '2026-11-29T08:00:00.000Z',
    anomalyAt: '2026-11-29T07:59:30.000Z',
    lastSeenAt: '2026-11-29T08:03:00.000Z',
    occurrenceCount: 3,
    maxAnomalyScore: 0.9,
    decidedBy: null,
    decidedAt: null,
    deferredUntil: null,
    operatorNotes: null,
    writeResult: null,
    version: 1,
    ...overrides,
  };
}
