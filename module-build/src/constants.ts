/** Identity of the module; shared with perspective-component/src/component-types.ts (a test keeps them equal). */
export const MODULE_ID = 'com.aimonitor.ignition';
export const MODULE_NAME = 'AI Equipment Monitor';
export const MOUNT_ALIAS = 'aimonitor';
