package com.inductiveautomation.ignition.gateway.model;

import jakarta.servlet.http.HttpServletResponse;
import java.util.Optional;

/** Compile-only stub for Ignition 8.3: mounted-resource requests use jakarta.servlet. */
public abstract class AbstractGatewayModuleHook implements GatewayModuleHook {
    @Override public Optional<String> getMountedResourceFolder() { return Optional.empty(); }
    @Override public Optional<String> getMountPathAlias() { return Optional.empty(); }
    @Override public boolean isFreeModule() { return false; }
    public void onMountedResourceRequest(String resourcePath, HttpServletResponse response) { }
}
