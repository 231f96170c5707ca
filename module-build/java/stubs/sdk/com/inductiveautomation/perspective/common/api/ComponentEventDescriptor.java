package com.inductiveautomation.perspective.common.api;

import com.inductiveautomation.ignition.common.jsonschema.JsonSchema;

/** Compile-only stub. */
public class ComponentEventDescriptor {
    private final String name;
    private final String description;
    private final JsonSchema schema;
    public ComponentEventDescriptor(String name, String description, JsonSchema schema) { this.name = name; this.description = description; this.schema = schema; }
    public String getName() { return name; }
    public String getDescription() { return description; }
    public JsonSchema getSchema() { return schema; }
}
