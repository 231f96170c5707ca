package com.inductiveautomation.perspective.common.api;

/** Compile-only stub: a JS or CSS file Perspective injects into sessions and the Designer. */
public class BrowserResource {
    public enum ResourceType { JS, CSS }
    private final String name;
    private final String path;
    private final ResourceType type;
    public BrowserResource(String name, String path, ResourceType type) { this.name = name; this.path = path; this.type = type; }
    public String getName() { return name; }
    public String getPath() { return path; }
    public ResourceType getType() { return type; }
}
