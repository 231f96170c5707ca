package com.inductiveautomation.perspective.designer.api;

import com.inductiveautomation.ignition.designer.model.DesignerContext;
import com.inductiveautomation.perspective.designer.DesignerComponentRegistry;

/** Compile-only stub; get() resolves through the stub runtime so the JVM test can supply the registry. */
public interface PerspectiveDesignerInterface {
    static PerspectiveDesignerInterface get(DesignerContext context) {
        return stubsdk.runtime.StubRuntime.designerInterface(context);
    }
    DesignerComponentRegistry getDesignerComponentRegistry();
}
