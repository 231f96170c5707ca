package com.aimonitor.ignition.gateway;

import com.aimonitor.ignition.common.AiMonitorComponents;
import com.aimonitor.ignition.common.RecommendationsDescriptor;
import com.inductiveautomation.ignition.common.licensing.LicenseState;
import com.inductiveautomation.ignition.common.util.LoggerEx;
import com.inductiveautomation.ignition.gateway.model.AbstractGatewayModuleHook;
import com.inductiveautomation.ignition.gateway.model.GatewayContext;
import com.inductiveautomation.perspective.common.api.ComponentRegistry;
import com.inductiveautomation.perspective.gateway.api.ComponentModelDelegateRegistry;
import com.inductiveautomation.perspective.gateway.api.PerspectiveContext;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Everything the gateway hook does on both 8.1 and 8.3: register the component and its model
 * delegate with Perspective, serve the bundle from mounted/ at /res/aimonitor/, and remove it all
 * at shutdown. The per-version subclass only adds the servlet-typed resource callback.
 */
public abstract class AbstractAiMonitorGatewayHook extends AbstractGatewayModuleHook {
    private final LoggerEx log = LoggerEx.newBuilder().build("aimonitor.GatewayHook");
    private GatewayContext context;
    private ComponentRegistry componentRegistry;
    private ComponentModelDelegateRegistry delegateRegistry;
    private SidecarClient client;
    private String configProblem;

    @Override
    public void setup(GatewayContext context) {
        this.context = context;
    }

    @Override
    public void startup(LicenseState activationState) {
        loadSettings();
        PerspectiveContext perspective = PerspectiveContext.get(context);
        componentRegistry = perspective.getComponentRegistry();
        delegateRegistry = perspective.getComponentModelDelegateRegistry();
        try {
            componentRegistry.registerComponent(RecommendationsDescriptor.create());
        } catch (IOException e) {
            // The jar was built without its resources: the module cannot work, so fail loudly.
            throw new IllegalStateException("cannot build the component descriptor: " + e.getMessage(), e);
        }
        SidecarClient c = client;
        String problem = configProblem;
        delegateRegistry.register(AiMonitorComponents.RECOMMENDATIONS_COMPONENT_TYPE,
                component -> new RecommendationsModelDelegate(component, c, problem));
        log.infof("Registered %s; sidecar %s", AiMonitorComponents.RECOMMENDATIONS_COMPONENT_TYPE,
                c != null ? c.settings().baseUrl + " (config: " + c.settings().source + ")" : "NOT configured: " + problem);
    }

    /** A bad or missing config must not stop the gateway: the component then answers with the reason. */
    private void loadSettings() {
        try {
            SidecarSettings s = SidecarSettings.load(SidecarSettings.defaultFile(dataDir()));
            if (s.gatewaySecret == null) {
                configProblem = "sidecar.gatewaySecret is not set (" + s.source + ")";
                log.warnf("AI Monitor: %s; the component will show this until it is configured", configProblem);
                return;
            }
            if (!s.isLoopback() && !"https".equals(s.baseUrl.getScheme())) {
                log.warnf("AI Monitor: sidecar.url %s is neither on this machine nor https; identities travel in clear text", s.baseUrl);
            }
            client = new SidecarClient(s, new GatewayIdentitySigner(s.gatewaySecret, System::currentTimeMillis));
        } catch (IOException e) {
            configProblem = e.getMessage();
            log.warnf("AI Monitor: configuration rejected: %s", configProblem);
        }
    }

    private File dataDir() {
        try {
            return context.getSystemManager().getDataDir();
        } catch (LinkageError | RuntimeException e) {
            // The data-dir accessor is not pinned in the notes; the gateway's working directory is its install root.
            log.warnf("AI Monitor: cannot ask the gateway for its data dir (%s); using ./data", e);
            return Path.of("data").toFile();
        }
    }

    @Override
    public void shutdown() {
        if (componentRegistry != null) componentRegistry.removeComponent(AiMonitorComponents.RECOMMENDATIONS_COMPONENT_TYPE);
        if (delegateRegistry != null) delegateRegistry.remove(AiMonitorComponents.RECOMMENDATIONS_COMPONENT_TYPE);
        componentRegistry = null;
        delegateRegistry = null;
        if (client != null) client.close();
        client = null;
    }

    @Override
    public Optional<String> getMountedResourceFolder() {
        return Optional.of(AiMonitorComponents.MOUNTED_FOLDER);
    }

    @Override
    public Optional<String> getMountPathAlias() {
        return Optional.of(AiMonitorComponents.MOUNT_ALIAS);
    }

    @Override
    public boolean isFreeModule() {
        return true;
    }
}
