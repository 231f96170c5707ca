/**
 * The demo plant used when the configuration names no equipment: the seed's REACTOR_01 plus a pump
 * and a conveyor. Tag paths follow Ignition's `[provider]Folder/Tag` form, as the OPC UA bridge
 * and the gateway see them. The simulator drives exactly these tags.
 */
export const DEFAULT_EQUIPMENT = [
  {
    id: 'REACTOR_01',
    area: 'Reactors',
    kind: 'reactor',
    description: 'Jacketed reactor with coolant loop',
    modeTag: '[default]Reactors/R01/Mode',
    sensors: [
      {
        tagPath: '[default]Reactors/R01/Temperature',
        sensorType: 'temperature',
        unit: '°C',
        engLow: 0,
        engHigh: 150,
      },
      {
        tagPath: '[default]Reactors/R01/Pressure',
        sensorType: 'pressure',
        unit: 'bar',
        engLow: 0,
        engHigh: 10,
      },
      {
        tagPath: '[default]Reactors/R01/Vibration',
        sensorType: 'vibration',
        unit: 'mm/s',
        engLow: 0,
        engHigh: 20,
      },
      {
        tagPath: '[default]Reactors/R01/CoolantFlow',
        sensorType: 'flow',
        unit: 'm³/h',
        engLow: 0,
        engHigh: 60,
      },
      {
        tagPath: '[default]Reactors/R01/AgitatorCurrent',
        sensorType: 'current',
        unit: 'A',
        engLow: 0,
        engHigh: 60,
      },
    ],
    setpoints: [
      {
        tagPath: '[default]Reactors/R01/Throughput_SP',
        name: 'throughput',
        unit: '%',
        min: 40,
        max: 100,
        maxStep: 25,
      },
      {
        tagPath: '[default]Reactors/R01/CoolantValve_SP',
        name: 'coolant_valve',
        unit: '%',
        min: 20,
        max: 100,
        maxStep: 30,
      },
    ],
  },
  {
    id: 'PUMP_02',
    area: 'Utilities',
    kind: 'pump',
    description: 'Centrifugal process-water pump',
    modeTag: '[default]Utilities/P02/Mode',
    sensors: [
      {
        tagPath: '[default]Utilities/P02/Vibration',
        sensorType: 'vibration',
        unit: 'mm/s',
        engLow: 0,
        engHigh: 20,
      },
      {
        tagPath: '[default]Utilities/P02/DischargePressure',
        sensorType: 'pressure',
        unit: 'bar',
        engLow: 0,
        engHigh: 16,
      },
      { tagPath: '[default]Utilities/P02/Flow', sensorType: 'flow', unit: 'm³/h', engLow: 0, engHigh: 120 },
      {
        tagPath: '[default]Utilities/P02/MotorCurrent',
        sensorType: 'current',
        unit: 'A',
        engLow: 0,
        engHigh: 80,
      },
      {
        tagPath: '[default]Utilities/P02/BearingTemperature',
        sensorType: 'temperature',
        unit: '°C',
        engLow: 0,
        engHigh: 150,
      },
    ],
    setpoints: [
      {
        tagPath: '[default]Utilities/P02/Speed_SP',
        name: 'speed',
        unit: '%',
        min: 30,
        max: 100,
        maxStep: 20,
      },
    ],
  },
  {
    id: 'CONVEYOR_03',
    area: 'Materials',
    kind: 'conveyor',
    description: 'Belt conveyor feeding the crusher',
    modeTag: '[default]Materials/C03/Mode',
    sensors: [
      {
        tagPath: '[default]Materials/C03/MotorCurrent',
        sensorType: 'current',
        unit: 'A',
        engLow: 0,
        engHigh: 100,
      },
      {
        tagPath: '[default]Materials/C03/Vibration',
        sensorType: 'vibration',
        unit: 'mm/s',
        engLow: 0,
        engHigh: 20,
      },
      {
        tagPath: '[default]Materials/C03/MotorTemperature',
        sensorType: 'temperature',
        unit: '°C',
        engLow: 0,
        engHigh: 150,
      },
      {
        tagPath: '[default]Materials/C03/BeltSpeed',
        sensorType: 'speed',
        unit: 'm/s',
        engLow: 0,
        engHigh: 5,
      },
    ],
    setpoints: [
      {
        tagPath: '[default]Materials/C03/Throughput_SP',
        name: 'throughput',
        unit: '%',
        min: 30,
        max: 100,
        maxStep: 25,
      },
    ],
  },
];
