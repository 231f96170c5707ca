package com.inductiveautomation.perspective.common.api;

import java.util.Map;

/** Compile-only stub of the gateway component registry. */
public interface ComponentRegistry {
    void registerComponent(ComponentDescriptor descriptor);
    void removeComponent(String id);
    Map<String, ComponentDescriptor> get();
}
