package com.inductiveautomation.perspective.gateway.api;

/** Compile-only stub. */
public interface ComponentModelDelegateRegistry {
    void register(String componentId, ComponentModelDelegateFactory factory);
    void remove(String componentId);
}
