package com.inductiveautomation.perspective.gateway.api;

import com.inductiveautomation.ignition.common.gson.JsonObject;
import com.inductiveautomation.ignition.common.util.LoggerEx;
import com.inductiveautomation.perspective.gateway.messages.EventFiredMsg;

/** Compile-only stub: one instance per component instance in a running view. */
public abstract class ComponentModelDelegate {
    protected final Component component;
    protected final LoggerEx log;

    protected ComponentModelDelegate(Component component) {
        this.component = component;
        this.log = LoggerEx.newBuilder().build(getClass());
    }

    /** Stub of the lifecycle entry points Perspective calls. */
    public final void startup() { onStartup(); }
    public final void shutdown() { onShutdown(); }

    protected abstract void onStartup();
    protected abstract void onShutdown();
    public abstract void handleEvent(EventFiredMsg message);

    public void fireEvent(String eventName, JsonObject event) {
        component.fireEvent("model", eventName, event);
    }
}
