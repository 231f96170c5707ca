package aimonitor.jvmtest;

import com.inductiveautomation.ignition.common.auth.web.WebAuthStatus;
import com.inductiveautomation.ignition.common.auth.web.WebAuthUser;
import com.inductiveautomation.ignition.common.gson.JsonObject;
import com.inductiveautomation.ignition.designer.model.DesignerContext;
import com.inductiveautomation.ignition.gateway.SystemManager;
import com.inductiveautomation.ignition.gateway.model.GatewayContext;
import com.inductiveautomation.perspective.common.api.ComponentDescriptor;
import com.inductiveautomation.perspective.common.api.ComponentRegistry;
import com.inductiveautomation.perspective.designer.DesignerComponentRegistry;
import com.inductiveautomation.perspective.designer.api.PerspectiveDesignerInterface;
import com.inductiveautomation.perspective.gateway.api.Component;
import com.inductiveautomation.perspective.gateway.api.ComponentModelDelegateFactory;
import com.inductiveautomation.perspective.gateway.api.ComponentModelDelegateRegistry;
import com.inductiveautomation.perspective.gateway.api.PerspectiveContext;
import com.inductiveautomation.perspective.gateway.api.Session;
import java.io.File;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/** Small working implementations of the SDK interfaces the hooks talk to (test-only; never packaged). */
final class TestSdk {
    private TestSdk() { }

    static final class Gateway implements GatewayContext, SystemManager {
        final File dataDir;
        Gateway(File dataDir) { this.dataDir = dataDir; }
        @Override public SystemManager getSystemManager() { return this; }
        @Override public File getDataDir() { return dataDir; }
    }

    static final class Registries implements PerspectiveContext, ComponentRegistry, ComponentModelDelegateRegistry,
            PerspectiveDesignerInterface, DesignerComponentRegistry {
        final Map<String, ComponentDescriptor> components = new ConcurrentHashMap<>();
        final Map<String, ComponentModelDelegateFactory> delegates = new ConcurrentHashMap<>();
        @Override public ComponentRegistry getComponentRegistry() { return this; }
        @Override public ComponentModelDelegateRegistry getComponentModelDelegateRegistry() { return this; }
        @Override public DesignerComponentRegistry getDesignerComponentRegistry() { return this; }
        @Override public void registerComponent(ComponentDescriptor d) {
            if (components.putIfAbsent(d.id(), d) != null) throw new IllegalStateException("component " + d.id() + " registered twice");
        }
        @Override public void removeComponent(String id) { components.remove(id); }
        @Override public Map<String, ComponentDescriptor> get() { return components; }
        @Override public void register(String id, ComponentModelDelegateFactory f) { delegates.put(id, f); }
        @Override public void remove(String id) { delegates.remove(id); }
    }

    static final class Designer implements DesignerContext { }

    static final class User implements WebAuthUser {
        final String name;
        final List<String> roles;
        User(String name, List<String> roles) { this.name = name; this.roles = roles; }
        @Override public String getUserName() { return name; }
        @Override public Collection<String> getRoles() { return roles; }
    }

    static final class TestSession implements Session, WebAuthStatus {
        final UUID id = UUID.randomUUID();
        final GatewayContext gateway;
        volatile User user;
        TestSession(GatewayContext gateway, User user) { this.gateway = gateway; this.user = user; }
        @Override public UUID getSessionId() { return id; }
        @Override public String getProjectName() { return "jvmtest"; }
        @Override public WebAuthStatus getWebAuthStatus() { return this; }
        @Override public GatewayContext getGatewayContext() { return gateway; }
        @Override public Optional<WebAuthUser> getUser() { return Optional.ofNullable(user); }
    }

    /** A component instance that records what the delegate fires at the browser. */
    static final class TestComponent implements Component {
        static final class Fired {
            final String type, name;
            final JsonObject payload;
            Fired(String type, String name, JsonObject payload) { this.type = type; this.name = name; this.payload = payload; }
            @Override public String toString() { return type + "/" + name + " " + payload; }
        }
        final Session session;
        private final List<Fired> fired = new ArrayList<>();
        TestComponent(Session session) { this.session = session; }
        @Override public String getComponentAddressPath() { return "root/0"; }
        @Override public Session getSession() { return session; }
        @Override public synchronized void fireEvent(String type, String name, JsonObject payload) {
            fired.add(new Fired(type, name, payload));
            notifyAll();
        }

        /** Waits for the first fired event that matches and takes it; events can arrive in any order. */
        synchronized Fired await(String what, Predicate<Fired> match, long timeoutMs) throws InterruptedException {
            long end = System.currentTimeMillis() + timeoutMs;
            for (;;) {
                for (int i = 0; i < fired.size(); i++) {
                    if (match.test(fired.get(i))) return fired.remove(i);
                }
                long left = end - System.currentTimeMillis();
                if (left <= 0) throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what + "; have " + fired);
                wait(left);
            }
        }
    }
}
