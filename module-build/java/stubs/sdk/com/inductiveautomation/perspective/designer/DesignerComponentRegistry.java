package com.inductiveautomation.perspective.designer;

import com.inductiveautomation.perspective.common.api.ComponentDescriptor;

/** Compile-only stub of the Designer palette registry. */
public interface DesignerComponentRegistry {
    void registerComponent(ComponentDescriptor descriptor);
    void removeComponent(String id);
}
