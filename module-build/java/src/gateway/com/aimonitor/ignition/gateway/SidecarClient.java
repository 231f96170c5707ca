package com.aimonitor.ignition.gateway;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * HTTP calls to the sidecar's operator API on behalf of one operator. Every request carries a
 * freshly signed identity for exactly its method and path; the browser never sees the secret.
 */
public final class SidecarClient {
    /** Recommendation ids are UUIDs or similar tokens; anything else could rewrite the URL path. */
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");

    public static final class Response {
        public final int status;
        public final String body;
        Response(int status, String body) { this.status = status; this.body = body; }
    }

    private final SidecarSettings settings;
    private final GatewayIdentitySigner signer;
    private final HttpClient http;
    /** Open live streams, so a module shutdown can end them even if Perspective never shuts their delegates down. */
    private final Set<SidecarStream> streams = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    public SidecarClient(SidecarSettings settings, GatewayIdentitySigner signer) {
        this.settings = settings;
        this.signer = signer;
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofMillis(settings.requestTimeoutMs))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public SidecarSettings settings() { return settings; }

    boolean track(SidecarStream stream) {
        if (closed) return false;
        streams.add(stream);
        return true;
    }

    void untrack(SidecarStream stream) {
        streams.remove(stream);
    }

    /** Module shutdown: ends every live stream and refuses new calls (no threads outlive the module's class loader). */
    public void close() {
        closed = true;
        for (SidecarStream s : streams) s.close();
        streams.clear();
    }

    public static String recommendationPath(String id) {
        if (id == null || !SAFE_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("recommendation id must match " + SAFE_ID.pattern() + ", got '" + id + "'");
        }
        return "/api/recommendations/" + id;
    }

    /** Query string from primitive values; keys and values are percent-encoded. */
    public static String query(Map<String, String> params) {
        StringBuilder q = new StringBuilder();
        for (Map.Entry<String, String> e : params.entrySet()) {
            q.append(q.length() == 0 ? '?' : '&');
            q.append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)).append('=')
                    .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
        }
        return q.toString();
    }

    /**
     * Sends one request. The identity is signed for the path without the query string, which is
     * what the sidecar compares (its request path).
     */
    public CompletableFuture<Response> send(SessionIdentity who, String method, String path, String query, String jsonBody) {
        if (closed) return CompletableFuture.failedFuture(new IllegalStateException("the AI Monitor module is shutting down"));
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(settings.baseUrl + path + (query == null ? "" : query)))
                .timeout(Duration.ofMillis(settings.requestTimeoutMs))
                .header("accept", "application/json")
                .header(GatewayIdentitySigner.HEADER, signer.sign(who.user, who.roles, method, path));
        if (jsonBody != null) {
            b.header("content-type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(jsonBody, StandardCharsets.UTF_8));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
                .thenApply(r -> new Response(r.statusCode(), r.body()));
    }

    /** Opens the Server-Sent Events stream; the caller reads and closes the body. */
    public HttpResponse<java.io.InputStream> openStream(SessionIdentity who, String lastEventId) throws java.io.IOException, InterruptedException {
        String path = "/api/stream";
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(settings.baseUrl + path))
                .header("accept", "text/event-stream")
                .header(GatewayIdentitySigner.HEADER, signer.sign(who.user, who.roles, "GET", path))
                .GET();
        if (lastEventId != null) b.header("last-event-id", lastEventId);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    }
}
