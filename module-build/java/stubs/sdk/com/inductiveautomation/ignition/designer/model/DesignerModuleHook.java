package com.inductiveautomation.ignition.designer.model;

import com.inductiveautomation.ignition.common.licensing.LicenseState;

/** Compile-only stub. */
public interface DesignerModuleHook {
    void startup(DesignerContext context, LicenseState activationState) throws Exception;
    void shutdown();
}
