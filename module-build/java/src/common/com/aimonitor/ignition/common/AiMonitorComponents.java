package com.aimonitor.ignition.common;

/**
 * Identity of the module and its component. Each value must equal its TypeScript twin
 * (perspective-component/src/component-types.ts, module-build/src/constants.ts) and module.xml;
 * module-build/test checks all three.
 */
public final class AiMonitorComponents {
    public static final String MODULE_ID = "com.aimonitor.ignition";
    public static final String MOUNT_ALIAS = "aimonitor";
    /** Classpath folder (in the gateway jar) served at /res/{MOUNT_ALIAS}/. */
    public static final String MOUNTED_FOLDER = "mounted";
    public static final String RECOMMENDATIONS_COMPONENT_TYPE = "aimonitor.display.recommendations";
    public static final String PALETTE_CATEGORY = "AI Monitor";
    public static final String RECOMMENDATIONS_NAME = "AI Recommendations";
    public static final String RECOMMENDATIONS_META_NAME = "AiRecommendations";
    /** Resources the build writes into the common jar. */
    public static final String PROPS_SCHEMA_RESOURCE = "/aimonitor/props.json";
    public static final String EVENTS_RESOURCE = "/aimonitor/events.json";
    public static final String WEB_RESOURCES_RESOURCE = "/aimonitor/web-resources.properties";

    private AiMonitorComponents() { }

    /** URL path at which the gateway serves a file placed under mounted/ in the gateway jar. */
    public static String resourcePath(String fileUnderMounted) {
        return "/res/" + MOUNT_ALIAS + "/" + fileUnderMounted;
    }
}
