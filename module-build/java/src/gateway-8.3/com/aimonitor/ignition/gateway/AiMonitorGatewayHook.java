package com.aimonitor.ignition.gateway;

import jakarta.servlet.http.HttpServletResponse;

/** The gateway hook for Ignition 8.3; only the servlet API of the mounted-resource callback differs from the other variant. */
public class AiMonitorGatewayHook extends AbstractAiMonitorGatewayHook {
    @Override
    public void onMountedResourceRequest(String resourcePath, HttpServletResponse response) {
        // Bundle file names carry no content hash, so browsers must revalidate after a module upgrade.
        response.setHeader("Cache-Control", "no-cache");
    }
}
