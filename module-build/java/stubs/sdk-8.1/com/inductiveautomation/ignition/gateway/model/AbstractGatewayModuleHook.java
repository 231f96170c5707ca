package com.inductiveautomation.ignition.gateway.model;

import javax.servlet.http.HttpServletResponse;
import java.util.Optional;

/** Compile-only stub for Ignition 8.1: mounted-resource requests use javax.servlet. */
public abstract class AbstractGatewayModuleHook implements GatewayModuleHook {
    @Override public Optional<String> getMountedResourceFolder() { return Optional.empty(); }
    @Override public Optional<String> getMountPathAlias() { return Optional.empty(); }
    @Override public boolean isFreeModule() { return false; }
    public void onMountedResourceRequest(String resourcePath, HttpServletResponse response) { }
}
