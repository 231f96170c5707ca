package com.inductiveautomation.perspective.gateway.api;

import com.inductiveautomation.ignition.gateway.model.GatewayContext;
import com.inductiveautomation.perspective.common.api.ComponentRegistry;

/** Compile-only stub. The static get() resolves through the stub runtime so the JVM test can supply registries. */
public interface PerspectiveContext {
    static PerspectiveContext get(GatewayContext context) {
        return stubsdk.runtime.StubRuntime.perspectiveContext(context);
    }
    ComponentRegistry getComponentRegistry();
    ComponentModelDelegateRegistry getComponentModelDelegateRegistry();
}
