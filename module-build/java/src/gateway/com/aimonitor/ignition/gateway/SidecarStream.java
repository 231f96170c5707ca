package com.aimonitor.ignition.gateway;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * Follows the sidecar's live stream (/api/stream, Server-Sent Events) on its own daemon thread for
 * one component instance, resuming with Last-Event-ID after a drop. Each reconnect signs a new
 * identity from the session as it is now, so a logout stops the stream at the next reconnect.
 */
final class SidecarStream {
    interface Listener {
        void onEvent(String id, String event, String data);
        /** state is one of connecting, online, reconnecting, offline (the browser transport's names). */
        void onState(String state, String detail, int attempts);
    }

    private static final int OFFLINE_AFTER_ATTEMPTS = 3;
    private static final long MAX_BACKOFF_MS = 15_000;

    private final SidecarClient client;
    private final Supplier<SessionIdentity> identity;
    private final Listener listener;
    private final Thread thread;
    private volatile boolean closed;
    private volatile InputStream current;
    private volatile String lastEventId;

    SidecarStream(SidecarClient client, Supplier<SessionIdentity> identity, String lastEventId, Listener listener, String threadName) {
        this.client = client;
        this.identity = identity;
        this.listener = listener;
        this.lastEventId = lastEventId;
        this.thread = new Thread(this::run, threadName);
        this.thread.setDaemon(true);
    }

    void start() {
        if (!client.track(this)) {
            listener.onState("offline", "the AI Monitor module is shutting down", 0);
            return;
        }
        listener.onState("connecting", null, 0);
        thread.start();
    }

    void close() {
        closed = true;
        client.untrack(this);
        InputStream in = current;
        if (in != null) {
            try {
                in.close();
            } catch (IOException e) {
                // Closing only unblocks the reader; the thread exits either way.
            }
        }
        thread.interrupt();
    }

    private void run() {
        int attempts = 0;
        while (!closed) {
            SessionIdentity who = identity.get();
            if (who == null) {
                listener.onState("offline", "the session has no logged-in user", attempts);
                return;
            }
            String problem;
            try {
                HttpResponse<InputStream> r = client.openStream(who, lastEventId);
                if (r.statusCode() != 200) {
                    try (InputStream body = r.body()) {
                        problem = "sidecar answered " + r.statusCode() + ": " + new String(body.readNBytes(2048), StandardCharsets.UTF_8);
                    }
                } else {
                    current = r.body();
                    attempts = 0;
                    listener.onState("online", null, attempts);
                    read(r.body());
                    problem = "the stream closed";
                }
            } catch (IOException e) {
                problem = e.toString();
            } catch (InterruptedException e) {
                return;
            }
            if (closed) return;
            attempts++;
            // Same policy as the browser's HTTP transport: 'offline' after 3 failures, retries go on.
            listener.onState(attempts >= OFFLINE_AFTER_ATTEMPTS ? "offline" : "reconnecting", problem, attempts);
            long delay = Math.min(MAX_BACKOFF_MS, client.settings().streamRetryMs << Math.min(attempts - 1, 10));
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The SSE wire format: field lines, a blank line ends an event; ':' lines are keep-alives. */
    private void read(InputStream in) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String id = null;
        String event = "message";
        StringBuilder data = new StringBuilder();
        for (String line = reader.readLine(); line != null && !closed; line = reader.readLine()) {
            if (line.isEmpty()) {
                if (data.length() > 0) {
                    if (id != null) lastEventId = id;
                    listener.onEvent(id, event, data.toString());
                }
                id = null;
                event = "message";
                data.setLength(0);
                continue;
            }
            if (line.startsWith(":")) continue;
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) value = value.substring(1);
            if ("data".equals(field)) {
                if (data.length() > 0) data.append('\n');
                data.append(value);
            } else if ("id".equals(field)) id = value;
            else if ("event".equals(field)) event = value;
        }
    }
}
