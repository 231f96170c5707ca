package aimonitor.jvmtest;

import com.inductiveautomation.ignition.common.gson.JsonArray;
import com.inductiveautomation.ignition.common.gson.JsonObject;
import com.inductiveautomation.ignition.common.gson.JsonParser;
import com.inductiveautomation.ignition.designer.model.DesignerModuleHook;
import com.inductiveautomation.ignition.gateway.model.GatewayModuleHook;
import com.inductiveautomation.perspective.common.api.BrowserResource;
import com.inductiveautomation.perspective.common.api.ComponentDescriptor;
import com.inductiveautomation.perspective.common.api.ComponentEventDescriptor;
import com.inductiveautomation.perspective.gateway.api.ComponentModelDelegate;
import com.inductiveautomation.perspective.gateway.messages.EventFiredMsg;
import java.io.File;
import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Loads the hooks from the packaged .modl (each scope with only its own jars, over the stub SDK),
 * checks the registrations and resource paths, and drives the delegate against the HTTP server
 * named on the command line. Prints PASS/FAIL lines; exit status 1 if anything failed.
 *
 * Arguments (key=value): modl, target (8.1|8.3), work (temp dir), sidecar (base URL),
 * secret, wrongSecret, recId and recVersion (a pending recommendation), expectedModuleId, expectedComponentType.
 */
public final class ModuleJvmTest {
    private static final Map<String, String> ARGS = new HashMap<>();
    private static int failures;
    private static long changeSeq;

    private ModuleJvmTest() { }

    interface Check { void run() throws Exception; }

    static void check(String name, Check c) {
        try {
            c.run();
            System.out.println("PASS " + name);
        } catch (Throwable t) {
            failures++;
            System.out.println("FAIL " + name + ": " + t);
            t.printStackTrace(System.out);
        }
    }

    static void expect(boolean ok, Supplier<String> why) {
        if (!ok) throw new AssertionError(why.get());
    }

    static void eq(Object expected, Object actual, String what) {
        expect(expected == null ? actual == null : expected.equals(actual), () -> what + ": expected <" + expected + "> got <" + actual + ">");
    }

    public static void main(String[] args) throws Exception {
        for (String a : args) {
            int i = a.indexOf('=');
            ARGS.put(a.substring(0, i), a.substring(i + 1));
        }
        Path work = Path.of(ARGS.get("work"));
        ModuleFile modl = ModuleFile.read(Path.of(ARGS.get("modl")), work.resolve("jars"));

        check("module.xml parses and names one G and one D hook", () -> {
            expect(modl.hooks.containsKey("G") && modl.hooks.containsKey("D"), () -> "hooks: " + modl.hooks);
            eq(ARGS.get("expectedModuleId"), modl.moduleId, "module.xml <id>");
        });
        check("every entry verifies with java.security.Signature against certificates.p7b", () -> {
            int n = modl.verifySignatures();
            expect(n == modl.entryCount() - 2, () -> "signed " + n + " of " + (modl.entryCount() - 2));
        });

        URLClassLoader gatewayLoader = new URLClassLoader(modl.jarUrls("G"), ModuleJvmTest.class.getClassLoader());
        URLClassLoader designerLoader = new URLClassLoader(modl.jarUrls("D"), ModuleJvmTest.class.getClassLoader());
        TestSdk.Registries gw = new TestSdk.Registries();
        TestSdk.Gateway gatewayContext = gatewayWithConfig(work.resolve("data-good"), ARGS.get("secret"), gw);
        GatewayModuleHook hook = (GatewayModuleHook) gatewayLoader.loadClass(modl.hooks.get("G")).getDeclaredConstructor().newInstance();

        check("gateway hook starts and registers the descriptor and the delegate factory", () -> {
            hook.setup(gatewayContext);
            hook.startup(null);
            eq(1, gw.components.size(), "registered components");
            expect(gw.delegates.containsKey(ARGS.get("expectedComponentType")), () -> "delegate factories: " + gw.delegates.keySet());
        });
        ComponentDescriptor d = gw.components.get(ARGS.get("expectedComponentType"));
        check("descriptor: id, moduleId, name, palette category, props schema, events", () -> {
            expect(d != null, () -> "no descriptor with id " + ARGS.get("expectedComponentType") + "; have " + gw.components.keySet());
            eq(ARGS.get("expectedComponentType"), d.id(), "id");
            eq(modl.moduleId, d.moduleId(), "moduleId (must equal module.xml <id>)");
            eq("AI Recommendations", d.name(), "name");
            eq("AI Monitor", d.paletteCategory(), "palette category");
            expect(d.schema() != null && d.schema().stubJson().has("properties"), () -> "schema without properties");
            List<String> events = new ArrayList<>();
            for (ComponentEventDescriptor e : d.events()) events.add(e.getName());
            expect(events.contains("onDecision") && events.contains("onSelect"), () -> "events " + events);
        });
        check("browser resources are served from mounted/ under /res/<alias>/", () -> {
            eq(Optional.of("mounted"), hook.getMountedResourceFolder(), "mounted folder");
            eq(Optional.of("aimonitor"), hook.getMountPathAlias(), "alias");
            expect(hook.isFreeModule(), () -> "isFreeModule false");
            boolean js = false;
            boolean css = false;
            for (BrowserResource r : d.browserResources()) {
                String prefix = "/res/" + hook.getMountPathAlias().get() + "/";
                expect(r.getPath().startsWith(prefix), () -> r.getPath() + " not under " + prefix);
                String resource = hook.getMountedResourceFolder().get() + "/" + r.getPath().substring(prefix.length());
                try (InputStream in = gatewayLoader.getResourceAsStream(resource)) {
                    expect(in != null && in.readAllBytes().length > 0, () -> resource + " is not in the gateway jars");
                }
                js |= r.getType() == BrowserResource.ResourceType.JS;
                css |= r.getType() == BrowserResource.ResourceType.CSS;
            }
            expect(js && css, () -> "need one JS and one CSS resource");
        });
        check("mounted-resource callback uses the " + ARGS.get("target") + " servlet API and disables caching", () -> {
            String cls = ("8.3".equals(ARGS.get("target")) ? "jakarta" : "javax") + ".servlet.http.HttpServletResponse";
            Class<?> type = Class.forName(cls);
            Map<String, String> headers = new HashMap<>();
            Object response = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (p, m, a) -> {
                if ("setHeader".equals(m.getName())) headers.put((String) a[0], (String) a[1]);
                return null;
            });
            hook.getClass().getMethod("onMountedResourceRequest", String.class, type).invoke(hook, "aimonitor-components.js", response);
            eq("no-cache", headers.get("Cache-Control"), "Cache-Control");
        });

        TestSdk.TestComponent alice = newComponent(gw, gatewayContext, new TestSdk.User("alice", List.of("Supervisor", "Operator")));
        ComponentModelDelegate delegate = gw.delegates.get(ARGS.get("expectedComponentType")).create(alice);
        delegate.startup();
        check("list-request reaches the sidecar with a valid signed identity and list-response comes back", () -> {
            delegate.handleEvent(new EventFiredMsg("list-request", json("{\"requestId\":\"r1\",\"filter\":{\"status\":[\"pending\"],\"limit\":10,\"offset\":0}}")));
            TestSdk.TestComponent.Fired f = alice.await("list-response r1", x -> x.name.equals("list-response") || x.name.equals("error"), 20_000);
            eq("model", f.type, "event type");
            expect(f.name.equals("list-response"), () -> "got " + f);
            eq("r1", f.payload.get("requestId").getAsString(), "requestId");
            JsonArray items = f.payload.getAsJsonArray("items");
            expect(items.size() >= 1, () -> "no items in " + f.payload);
        });
        check("subscribe opens the stream: stream-state online, then a change pushed by the sidecar", () -> {
            delegate.handleEvent(new EventFiredMsg("subscribe", json("{\"lastSeq\":null}")));
            alice.await("stream-state online", x -> x.name.equals("stream-state") && "online".equals(x.payload.get("state").getAsString()), 20_000);
        });
        check("decide-request reaches the sidecar and decide-response carries the updated recommendation; the change arrives live", () -> {
            String rec = ARGS.get("recId");
            delegate.handleEvent(new EventFiredMsg("decide-request", json("{\"requestId\":\"r2\",\"id\":\"" + rec
                    + "\",\"request\":{\"decision\":\"reject\",\"note\":\"rejected from the JVM test (" + ARGS.get("target")
                    + ")\",\"expectedVersion\":" + ARGS.get("recVersion") + "}}")));
            TestSdk.TestComponent.Fired f = alice.await("decide-response r2", x -> x.name.equals("decide-response") || x.name.equals("error"), 20_000);
            expect(f.name.equals("decide-response"), () -> "got " + f);
            JsonObject r = f.payload.getAsJsonObject("recommendation");
            eq(rec, r.get("id").getAsString(), "recommendation id");
            eq("rejected", r.get("status").getAsString(), "status");
            eq("alice", r.get("decidedBy").getAsString(), "decidedBy (from the signed identity)");
            TestSdk.TestComponent.Fired c = alice.await("change for " + rec, x -> x.name.equals("change")
                    && x.payload.has("recommendation") && rec.equals(x.payload.getAsJsonObject("recommendation").get("id").getAsString())
                    && "rejected".equals(x.payload.getAsJsonObject("recommendation").get("status").getAsString()), 20_000);
            eq(rec, c.payload.getAsJsonObject("recommendation").get("id").getAsString(), "change recommendation id");
            changeSeq = c.payload.get("seq").getAsLong();
        });
        check("subscribe with lastSeq resumes: the sidecar replays the change after that sequence number", () -> {
            expect(changeSeq > 0, () -> "no change seq from the previous check");
            TestSdk.TestComponent bob = newComponent(gw, gatewayContext, new TestSdk.User("bob", List.of("Viewer")));
            ComponentModelDelegate d4 = gw.delegates.get(ARGS.get("expectedComponentType")).create(bob);
            d4.handleEvent(new EventFiredMsg("subscribe", json("{\"lastSeq\":" + (changeSeq - 1) + "}")));
            TestSdk.TestComponent.Fired c = bob.await("replayed change " + changeSeq,
                    x -> x.name.equals("change") && x.payload.get("seq").getAsLong() == changeSeq, 20_000);
            eq(ARGS.get("recId"), c.payload.getAsJsonObject("recommendation").get("id").getAsString(), "replayed recommendation");
            d4.handleEvent(new EventFiredMsg("unsubscribe", new JsonObject()));
        });
        check("alerts-request reaches GET /api/critical-alerts with the signed identity; alerts-response carries the latest alert", () -> {
            delegate.handleEvent(new EventFiredMsg("alerts-request", json("{\"requestId\":\"r9\",\"limit\":3}")));
            TestSdk.TestComponent.Fired f = alice.await("alerts-response r9", x -> x.name.equals("alerts-response") || x.name.equals("error"), 20_000);
            expect(f.name.equals("alerts-response"), () -> "got " + f);
            eq("r9", f.payload.get("requestId").getAsString(), "requestId");
            JsonArray items = f.payload.getAsJsonArray("items");
            expect(items.size() >= 1 && items.size() <= 3, () -> "expected 1..3 items in " + f.payload);
            eq(ARGS.get("alertId"), items.get(0).getAsJsonObject().get("id").getAsString(), "newest alert id");
        });
        check("a bad recommendation id is refused before any HTTP call", () -> {
            delegate.handleEvent(new EventFiredMsg("decide-request", json("{\"requestId\":\"r3\",\"id\":\"../health\",\"request\":{\"decision\":\"reject\",\"expectedVersion\":1}}")));
            TestSdk.TestComponent.Fired f = alice.await("error r3", x -> x.name.equals("error"), 5_000);
            eq("GW_ERR_BAD_REQUEST", f.payload.get("code").getAsString(), "code");
        });
        check("an anonymous session gets GW_ERR_NOT_AUTHENTICATED and nothing is sent", () -> {
            TestSdk.TestComponent anon = newComponent(gw, gatewayContext, null);
            ComponentModelDelegate d2 = gw.delegates.get(ARGS.get("expectedComponentType")).create(anon);
            d2.handleEvent(new EventFiredMsg("list-request", json("{\"requestId\":\"r4\",\"filter\":{\"limit\":5,\"offset\":0}}")));
            TestSdk.TestComponent.Fired f = anon.await("error r4", x -> x.name.equals("error"), 5_000);
            eq("GW_ERR_NOT_AUTHENTICATED", f.payload.get("code").getAsString(), "code");
            eq(401, f.payload.get("status").getAsInt(), "status");
        });
        check("a gateway without a secret answers GW_ERR_SIDECAR_NOT_CONFIGURED naming the key; a short secret is named too", () -> {
            for (String[] c : new String[][] {{"data-nosecret", "", "sidecar.gatewaySecret is not set"},
                    {"data-shortsecret", "too-short", "sidecar.gatewaySecret must be at least 32 characters, got 9"}}) {
                TestSdk.Registries other = new TestSdk.Registries();
                TestSdk.Gateway ctx = gatewayWithConfig(work.resolve(c[0]), c[1], other);
                GatewayModuleHook h = (GatewayModuleHook) gatewayLoader.loadClass(modl.hooks.get("G")).getDeclaredConstructor().newInstance();
                h.setup(ctx);
                h.startup(null);
                TestSdk.TestComponent comp = newComponent(other, ctx, new TestSdk.User("alice", List.of("Operator")));
                other.delegates.get(ARGS.get("expectedComponentType")).create(comp)
                        .handleEvent(new EventFiredMsg("list-request", json("{\"requestId\":\"r6\",\"filter\":{\"limit\":5,\"offset\":0}}")));
                TestSdk.TestComponent.Fired f = comp.await("error r6", x -> x.name.equals("error"), 5_000);
                eq("GW_ERR_SIDECAR_NOT_CONFIGURED", f.payload.get("code").getAsString(), "code");
                eq(503, f.payload.get("status").getAsInt(), "status");
                String msg = f.payload.get("message").getAsString();
                expect(msg.contains(c[2]), () -> "message '" + msg + "' should contain '" + c[2] + "'");
                h.shutdown();
            }
        });
        check("a gateway with the wrong secret (forged identity) is refused by the sidecar", () -> {
            TestSdk.Registries other = new TestSdk.Registries();
            TestSdk.Gateway forgedContext = gatewayWithConfig(work.resolve("data-forged"), ARGS.get("wrongSecret"), other);
            GatewayModuleHook forgedHook = (GatewayModuleHook) gatewayLoader.loadClass(modl.hooks.get("G")).getDeclaredConstructor().newInstance();
            forgedHook.setup(forgedContext);
            forgedHook.startup(null);
            TestSdk.TestComponent mallory = newComponent(other, forgedContext, new TestSdk.User("alice", List.of("Supervisor")));
            ComponentModelDelegate d3 = other.delegates.get(ARGS.get("expectedComponentType")).create(mallory);
            d3.handleEvent(new EventFiredMsg("list-request", json("{\"requestId\":\"r5\",\"filter\":{\"limit\":5,\"offset\":0}}")));
            TestSdk.TestComponent.Fired f = mallory.await("error r5", x -> x.name.equals("error") || x.name.equals("list-response"), 20_000);
            eq("error", f.name, "answer");
            eq(401, f.payload.get("status").getAsInt(), "status");
            eq("SC_ERR_IDENTITY_INVALID", f.payload.get("code").getAsString(), "code");
            forgedHook.shutdown();
        });
        check("shutdown removes the component and the delegate factory, and ends every live stream", () -> {
            delegate.shutdown();
            // carol's view never closes: the module's shutdown alone must end her stream thread.
            TestSdk.TestComponent carol = newComponent(gw, gatewayContext, new TestSdk.User("carol", List.of("Viewer")));
            gw.delegates.get(ARGS.get("expectedComponentType")).create(carol).handleEvent(new EventFiredMsg("subscribe", json("{\"lastSeq\":null}")));
            carol.await("carol online", x -> x.name.equals("stream-state") && "online".equals(x.payload.get("state").getAsString()), 20_000);
            expect(streamThreads() > 0, () -> "no stream thread while carol is subscribed");
            hook.shutdown();
            long end = System.currentTimeMillis() + 10_000;
            while (streamThreads() > 0 && System.currentTimeMillis() < end) Thread.sleep(50);
            eq(0, streamThreads(), "live aimonitor-stream threads after shutdown");
            expect(gw.components.isEmpty(), () -> "components left: " + gw.components.keySet());
            expect(gw.delegates.isEmpty(), () -> "delegates left: " + gw.delegates.keySet());
        });

        check("designer hook (designer + common jars only) registers and removes the same component", () -> {
            TestSdk.Registries dr = new TestSdk.Registries();
            TestSdk.Designer designer = new TestSdk.Designer();
            stubsdk.runtime.StubRuntime.install(designer, dr);
            DesignerModuleHook dh = (DesignerModuleHook) designerLoader.loadClass(modl.hooks.get("D")).getDeclaredConstructor().newInstance();
            dh.startup(designer, null);
            ComponentDescriptor dd = dr.components.get(ARGS.get("expectedComponentType"));
            expect(dd != null, () -> "designer registry: " + dr.components.keySet());
            eq(d.browserResources().size(), dd.browserResources().size(), "same browser resources");
            dh.shutdown();
            expect(dr.components.isEmpty(), () -> "designer components left");
        });

        System.out.println(failures == 0 ? "ALL PASSED" : failures + " FAILED");
        System.exit(failures == 0 ? 0 : 1);
    }

    static int streamThreads() {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) if (t.isAlive() && t.getName().startsWith("aimonitor-stream-")) n++;
        return n;
    }

    static JsonObject json(String s) {
        return JsonParser.parseString(s).getAsJsonObject();
    }

    static TestSdk.TestComponent newComponent(TestSdk.Registries r, TestSdk.Gateway g, TestSdk.User user) {
        return new TestSdk.TestComponent(new TestSdk.TestSession(g, user));
    }

    /** A gateway data dir with aimonitor/aimonitor.properties pointing at the server under test. */
    static TestSdk.Gateway gatewayWithConfig(Path dataDir, String secret, TestSdk.Registries registries) throws Exception {
        Files.createDirectories(dataDir.resolve("aimonitor"));
        String props = "sidecar.url=" + ARGS.get("sidecar") + "\nsidecar.gatewaySecret=" + secret + "\nsidecar.streamRetryMs=200\n";
        Files.write(dataDir.resolve("aimonitor").resolve("aimonitor.properties"), props.getBytes(StandardCharsets.UTF_8));
        TestSdk.Gateway g = new TestSdk.Gateway(dataDir.toFile());
        stubsdk.runtime.StubRuntime.install(g, registries);
        return g;
    }

    static URL url(File f) throws Exception {
        return f.toURI().toURL();
    }
}
