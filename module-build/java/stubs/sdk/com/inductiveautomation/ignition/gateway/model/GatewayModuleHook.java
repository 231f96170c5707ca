package com.inductiveautomation.ignition.gateway.model;

import com.inductiveautomation.ignition.common.licensing.LicenseState;
import java.util.Optional;

/** Compile-only stub: the lifecycle and mount members (JD81/JD83 GatewayModuleHook). */
public interface GatewayModuleHook {
    void setup(GatewayContext context);
    void startup(LicenseState activationState);
    void shutdown();
    Optional<String> getMountedResourceFolder();
    Optional<String> getMountPathAlias();
    boolean isFreeModule();
}
