package com.inductiveautomation.ignition.gateway.model;

import com.inductiveautomation.ignition.gateway.SystemManager;

/** Compile-only stub: the single member module code uses. */
public interface GatewayContext {
    SystemManager getSystemManager();
}
