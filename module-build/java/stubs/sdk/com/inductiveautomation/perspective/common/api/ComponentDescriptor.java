package com.inductiveautomation.perspective.common.api;

import com.inductiveautomation.ignition.common.jsonschema.JsonSchema;
import java.util.List;
import java.util.Set;

/** Compile-only stub: the accessors of ComponentDescriptor (JD81 8.1.43) the JVM test reads. */
public interface ComponentDescriptor {
    String id();
    String name();
    String paletteCategory();
    String defaultMetaName();
    String moduleId();
    Set<BrowserResource> browserResources();
    JsonSchema schema();
    List<ComponentEventDescriptor> events();
}
