package com.aimonitor.ignition.gateway;

import com.inductiveautomation.ignition.common.gson.JsonArray;
import com.inductiveautomation.ignition.common.gson.JsonElement;
import com.inductiveautomation.ignition.common.gson.JsonObject;
import com.inductiveautomation.ignition.common.gson.JsonParseException;
import com.inductiveautomation.ignition.common.gson.JsonParser;
import com.inductiveautomation.perspective.gateway.api.Component;
import com.inductiveautomation.perspective.gateway.api.ComponentModelDelegate;
import com.inductiveautomation.perspective.gateway.messages.EventFiredMsg;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The identity bridge for one component instance. The browser half (perspective-component,
 * DelegateTransport) sends list/decide requests and (un)subscribes over Perspective's
 * authenticated websocket; this side signs the session's user and roles, calls the sidecar on
 * the gateway's behalf and fires the answers and the live stream back. Message names and
 * payloads: perspective-component/DELEGATE-PROTOCOL.md.
 */
public class RecommendationsModelDelegate extends ComponentModelDelegate {
    public static final String LIST_REQUEST = "list-request";
    public static final String LIST_RESPONSE = "list-response";
    public static final String DECIDE_REQUEST = "decide-request";
    public static final String DECIDE_RESPONSE = "decide-response";
    public static final String ALERTS_REQUEST = "alerts-request";
    public static final String ALERTS_RESPONSE = "alerts-response";
    public static final String SUBSCRIBE = "subscribe";
    public static final String UNSUBSCRIBE = "unsubscribe";
    public static final String CHANGE = "change";
    public static final String STREAM_STATE = "stream-state";
    public static final String ERROR = "error";

    /** Error codes this side adds; the sidecar's own SC_ERR_* codes are passed through unchanged. */
    public static final String ERR_NOT_AUTHENTICATED = "GW_ERR_NOT_AUTHENTICATED";
    public static final String ERR_NOT_CONFIGURED = "GW_ERR_SIDECAR_NOT_CONFIGURED";
    /** The browser's own network code (DELEGATE-PROTOCOL.md), so both transports read the same. */
    public static final String ERR_UNREACHABLE = "CLIENT_ERR_NETWORK";
    public static final String ERR_BAD_REQUEST = "GW_ERR_BAD_REQUEST";
    public static final String ERR_BAD_RESPONSE = "GW_ERR_SIDECAR_BAD_RESPONSE";

    private final SidecarClient client;
    private final String configProblem;
    private SidecarStream stream;
    private boolean warnedRoles;

    /** client is null when the gateway side is not configured; configProblem then says why. */
    public RecommendationsModelDelegate(Component component, SidecarClient client, String configProblem) {
        super(component);
        this.client = client;
        this.configProblem = configProblem;
    }

    @Override
    protected void onStartup() {
        // Nothing runs until the view subscribes: hidden or design-mode components cost nothing.
    }

    @Override
    protected synchronized void onShutdown() {
        stopStream();
    }

    @Override
    public void handleEvent(EventFiredMsg message) {
        JsonObject payload = message.getEvent() == null ? new JsonObject() : message.getEvent();
        String requestId = text(payload, "requestId");
        try {
            switch (message.getEventName()) {
                case LIST_REQUEST: list(requestId, payload); break;
                case DECIDE_REQUEST: decide(requestId, payload); break;
                case ALERTS_REQUEST: alerts(requestId, payload); break;
                case SUBSCRIBE: subscribe(payload); break;
                case UNSUBSCRIBE: stopStream(); break;
                default: error(requestId, ERR_BAD_REQUEST, "unknown message '" + message.getEventName() + "'", 400);
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            error(requestId, ERR_BAD_REQUEST, e.getMessage(), 400);
        }
    }

    /** The operator, or an error event saying why there is none. */
    private Optional<SessionIdentity> operator(String requestId) {
        if (client == null) {
            error(requestId, ERR_NOT_CONFIGURED, "the gateway module is not configured for the sidecar: " + configProblem, 503);
            return Optional.empty();
        }
        Optional<SessionIdentity> who = SessionIdentity.of(component.getSession());
        if (who.isEmpty()) {
            error(requestId, ERR_NOT_AUTHENTICATED, "log in to the Perspective session to see and decide recommendations", 401);
        } else if (!who.get().rolesReadable && !warnedRoles) {
            warnedRoles = true;
            log.warnf("This gateway's WebAuthUser has no readable getRoles(); %s is sent with no roles", who.get().user);
        }
        return who;
    }

    private void list(String requestId, JsonObject payload) {
        JsonObject filter = payload.has("filter") && payload.get("filter").isJsonObject() ? payload.getAsJsonObject("filter") : new JsonObject();
        Map<String, String> q = new LinkedHashMap<>();
        joined(filter, "status").ifPresent(v -> q.put("status", v));
        joined(filter, "severity").ifPresent(v -> q.put("severity", v));
        String equipment = text(filter, "equipmentId");
        if (equipment != null && !equipment.isEmpty()) q.put("equipmentId", equipment);
        q.put("limit", String.valueOf(wholeNumber(filter, "limit", 50)));
        q.put("offset", String.valueOf(wholeNumber(filter, "offset", 0)));
        Optional<SessionIdentity> who = operator(requestId);
        if (who.isEmpty()) return;
        client.send(who.get(), "GET", "/api/recommendations", SidecarClient.query(q), null)
                .whenComplete((r, err) -> answer(requestId, LIST_RESPONSE, r, err, false));
    }

    /** The latest critical alerts (GET /api/critical-alerts), so a view opened during an emergency shows it. */
    private void alerts(String requestId, JsonObject payload) {
        Map<String, String> q = new LinkedHashMap<>();
        q.put("limit", String.valueOf(wholeNumber(payload, "limit", 3)));
        Optional<SessionIdentity> who = operator(requestId);
        if (who.isEmpty()) return;
        client.send(who.get(), "GET", "/api/critical-alerts", SidecarClient.query(q), null)
                .whenComplete((r, err) -> answer(requestId, ALERTS_RESPONSE, r, err, false));
    }

    private void decide(String requestId, JsonObject payload) {
        String path = SidecarClient.recommendationPath(text(payload, "id")) + "/decision";
        if (!payload.has("request") || !payload.get("request").isJsonObject()) {
            throw new IllegalArgumentException("decide-request needs a 'request' object {decision, note?, deferUntil?, expectedVersion}");
        }
        // Forwarded as is: the sidecar validates the decision; the decider is the signed identity, never a payload field.
        String body = payload.getAsJsonObject("request").toString();
        Optional<SessionIdentity> who = operator(requestId);
        if (who.isEmpty()) return;
        client.send(who.get(), "POST", path, null, body).whenComplete((r, err) -> answer(requestId, DECIDE_RESPONSE, r, err, true));
    }

    private void answer(String requestId, String responseName, SidecarClient.Response r, Throwable err, boolean wrapRecommendation) {
        if (err != null) {
            Throwable cause = err.getCause() != null ? err.getCause() : err;
            error(requestId, ERR_UNREACHABLE, "cannot reach the sidecar at " + client.settings().baseUrl + ": " + cause, 0);
            return;
        }
        JsonElement body;
        try {
            body = r.body == null || r.body.isEmpty() ? new JsonObject() : JsonParser.parseString(r.body);
        } catch (JsonParseException e) {
            error(requestId, ERR_BAD_RESPONSE, "the sidecar answered " + r.status + " with non-JSON", r.status);
            return;
        }
        if (r.status < 200 || r.status > 299) {
            JsonObject b = body.isJsonObject() ? body.getAsJsonObject() : new JsonObject();
            String code = text(b, "code");
            String msg = text(b, "message");
            error(requestId, code != null ? code : "HTTP_" + r.status, msg != null ? msg : "the sidecar answered " + r.status, r.status);
            return;
        }
        JsonObject out = new JsonObject();
        if (wrapRecommendation) {
            JsonObject b = body.isJsonObject() ? body.getAsJsonObject() : new JsonObject();
            out.add("recommendation", b.has("recommendation") ? b.get("recommendation") : b);
        } else if (body.isJsonObject()) {
            for (Map.Entry<String, JsonElement> e : body.getAsJsonObject().entrySet()) out.add(e.getKey(), e.getValue());
        }
        out.addProperty("requestId", requestId);
        fireEvent(responseName, out);
    }

    private synchronized void subscribe(JsonObject payload) {
        stopStream();
        if (operator(null).isEmpty()) {
            streamState("offline", "not connected to the sidecar", 0);
            return;
        }
        JsonElement seq = payload.get("lastSeq");
        String lastEventId = seq != null && seq.isJsonPrimitive() ? seq.getAsString() : null;
        stream = new SidecarStream(client, () -> SessionIdentity.of(component.getSession()).orElse(null), lastEventId, new SidecarStream.Listener() {
            @Override
            public void onEvent(String id, String event, String data) {
                JsonElement parsed;
                try {
                    parsed = JsonParser.parseString(data);
                } catch (JsonParseException e) {
                    return; // not JSON (a heartbeat or a newer event type): the browser ignores those too
                }
                if (parsed.isJsonObject()) fireEvent(CHANGE, parsed.getAsJsonObject());
            }

            @Override
            public void onState(String state, String detail, int attempts) {
                streamState(state, detail, attempts);
            }
        }, "aimonitor-stream-" + component.getComponentAddressPath());
        stream.start();
    }

    private synchronized void stopStream() {
        if (stream != null) {
            stream.close();
            stream = null;
        }
    }

    private void streamState(String state, String detail, int attempts) {
        JsonObject o = new JsonObject();
        o.addProperty("state", state);
        o.addProperty("detail", detail);
        o.addProperty("attempts", attempts);
        fireEvent(STREAM_STATE, o);
    }

    private void error(String requestId, String code, String message, int status) {
        JsonObject o = new JsonObject();
        if (requestId != null) o.addProperty("requestId", requestId);
        o.addProperty("code", code);
        o.addProperty("message", message);
        o.addProperty("status", status);
        fireEvent(ERROR, o);
    }

    private static String text(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() ? e.getAsString() : null;
    }

    private static Optional<String> joined(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonArray()) return Optional.empty();
        StringBuilder sb = new StringBuilder();
        for (JsonElement x : (JsonArray) e) {
            if (!x.isJsonPrimitive()) throw new IllegalArgumentException("filter." + key + " must be a list of strings");
            if (sb.length() > 0) sb.append(',');
            sb.append(x.getAsString());
        }
        return sb.length() == 0 ? Optional.empty() : Optional.of(sb.toString());
    }

    private static long wholeNumber(JsonObject o, String key, long fallback) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) return fallback;
        double d;
        try {
            d = e.getAsDouble();
        } catch (RuntimeException ex) {
            throw new IllegalArgumentException("filter." + key + " must be a number, got " + e);
        }
        if (d < 0 || d != Math.rint(d) || d > 100_000) throw new IllegalArgumentException("filter." + key + " must be a whole number 0..100000, got " + e);
        return (long) d;
    }
}
