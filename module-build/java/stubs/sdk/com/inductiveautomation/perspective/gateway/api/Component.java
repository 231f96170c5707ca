package com.inductiveautomation.perspective.gateway.api;

import com.inductiveautomation.ignition.common.gson.JsonObject;

/** Compile-only stub of the gateway-side component model. */
public interface Component {
    String getComponentAddressPath();
    Session getSession();
    void fireEvent(String type, String eventName, JsonObject payload);
}
