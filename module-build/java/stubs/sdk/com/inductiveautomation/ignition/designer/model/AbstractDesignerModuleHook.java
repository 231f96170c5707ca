package com.inductiveautomation.ignition.designer.model;

import com.inductiveautomation.ignition.common.licensing.LicenseState;

/** Compile-only stub. */
public abstract class AbstractDesignerModuleHook implements DesignerModuleHook {
    @Override public void startup(DesignerContext context, LicenseState activationState) throws Exception { }
    @Override public void shutdown() { }
}
