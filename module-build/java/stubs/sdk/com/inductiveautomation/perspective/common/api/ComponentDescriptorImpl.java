package com.inductiveautomation.perspective.common.api;

import com.inductiveautomation.ignition.common.jsonschema.JsonSchema;
import java.util.List;
import java.util.Set;

/** Compile-only stub with the ComponentBuilder chain (ignition-sdk-notes.md §3.4). */
public class ComponentDescriptorImpl implements ComponentDescriptor {
    private final ComponentBuilder b;
    private ComponentDescriptorImpl(ComponentBuilder b) { this.b = b; }
    @Override public String id() { return b.id; }
    @Override public String name() { return b.name; }
    @Override public String paletteCategory() { return b.paletteCategory; }
    @Override public String defaultMetaName() { return b.defaultMetaName; }
    @Override public String moduleId() { return b.moduleId; }
    @Override public Set<BrowserResource> browserResources() { return b.resources; }
    @Override public JsonSchema schema() { return b.schema; }
    @Override public List<ComponentEventDescriptor> events() { return b.events; }

    public static class ComponentBuilder {
        private String id, name, paletteCategory, defaultMetaName, moduleId;
        private Set<BrowserResource> resources = Set.of();
        private JsonSchema schema;
        private List<ComponentEventDescriptor> events = List.of();
        public static ComponentBuilder newBuilder() { return new ComponentBuilder(); }
        public ComponentBuilder setPaletteCategory(String v) { paletteCategory = v; return this; }
        public ComponentBuilder setId(String v) { id = v; return this; }
        public ComponentBuilder setModuleId(String v) { moduleId = v; return this; }
        public ComponentBuilder setSchema(JsonSchema v) { schema = v; return this; }
        public ComponentBuilder setName(String v) { name = v; return this; }
        public ComponentBuilder setDefaultMetaName(String v) { defaultMetaName = v; return this; }
        public ComponentBuilder setResources(Set<BrowserResource> v) { resources = v; return this; }
        public ComponentBuilder setEvents(List<ComponentEventDescriptor> v) { events = v; return this; }
        public ComponentDescriptor build() { return new ComponentDescriptorImpl(this); }
    }
}
