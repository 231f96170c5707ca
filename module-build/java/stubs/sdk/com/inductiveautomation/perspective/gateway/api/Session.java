package com.inductiveautomation.perspective.gateway.api;

import com.inductiveautomation.ignition.common.auth.web.WebAuthStatus;
import com.inductiveautomation.ignition.gateway.model.GatewayContext;
import java.util.UUID;

/** Compile-only stub of the Perspective session, the members module code uses. */
public interface Session {
    UUID getSessionId();
    String getProjectName();
    WebAuthStatus getWebAuthStatus();
    GatewayContext getGatewayContext();
}
