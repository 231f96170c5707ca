/**
 * Component type ids. Each must equal the id the Java gateway hook registers
 * (module-build/java/.../Components.java) and the designer palette entry.
 */
export const RECOMMENDATIONS_COMPONENT_TYPE = 'aimonitor.display.recommendations';
/** Module id in module.xml; descriptors' moduleId must equal it. */
export const MODULE_ID = 'com.aimonitor.ignition';
/** Mount alias: the bundle is served at /res/<alias>/... */
export const MOUNT_ALIAS = 'aimonitor';
