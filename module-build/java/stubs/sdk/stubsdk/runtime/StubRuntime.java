package stubsdk.runtime;

import com.inductiveautomation.ignition.designer.model.DesignerContext;
import com.inductiveautomation.ignition.gateway.model.GatewayContext;
import com.inductiveautomation.perspective.designer.api.PerspectiveDesignerInterface;
import com.inductiveautomation.perspective.gateway.api.PerspectiveContext;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Not part of any SDK: lets the JVM test hand its registry implementations to the stubbed static
 * factories (PerspectiveContext.get, PerspectiveDesignerInterface.get), which on a real gateway
 * find Perspective's own module.
 */
public final class StubRuntime {
    private static final Map<GatewayContext, PerspectiveContext> GATEWAY = new ConcurrentHashMap<>();
    private static final Map<DesignerContext, PerspectiveDesignerInterface> DESIGNER = new ConcurrentHashMap<>();

    private StubRuntime() { }

    public static void install(GatewayContext context, PerspectiveContext perspective) { GATEWAY.put(context, perspective); }
    public static void install(DesignerContext context, PerspectiveDesignerInterface designer) { DESIGNER.put(context, designer); }

    public static PerspectiveContext perspectiveContext(GatewayContext context) {
        PerspectiveContext p = GATEWAY.get(context);
        if (p == null) throw new IllegalStateException("Perspective module not running (no PerspectiveContext for this gateway)");
        return p;
    }

    public static PerspectiveDesignerInterface designerInterface(DesignerContext context) {
        PerspectiveDesignerInterface p = DESIGNER.get(context);
        if (p == null) throw new IllegalStateException("Perspective designer not running");
        return p;
    }
}
