package com.aimonitor.ignition.gateway;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Where the gateway finds the sidecar and the shared identity secret.
 *
 * Read from {@code <gateway data dir>/aimonitor/aimonitor.properties} (or the file named by the
 * system property {@code aimonitor.config}); each key can be overridden by a system property
 * {@code aimonitor.<key>}. Keys: {@code sidecar.url} (default http://127.0.0.1:8787),
 * {@code sidecar.gatewaySecret} (at least 32 characters, same value as the sidecar's
 * auth.gatewaySecret), {@code sidecar.requestTimeoutMs} (10000), {@code sidecar.streamRetryMs} (3000).
 */
public final class SidecarSettings {
    public static final String FILE_PROPERTY = "aimonitor.config";
    public static final int MIN_SECRET_LENGTH = 32;

    public final URI baseUrl;
    /** Null when not configured: every call is then refused with a clear error instead of going out unsigned. */
    public final String gatewaySecret;
    public final long requestTimeoutMs;
    public final long streamRetryMs;
    public final String source;

    private SidecarSettings(URI baseUrl, String gatewaySecret, long requestTimeoutMs, long streamRetryMs, String source) {
        this.baseUrl = baseUrl;
        this.gatewaySecret = gatewaySecret;
        this.requestTimeoutMs = requestTimeoutMs;
        this.streamRetryMs = streamRetryMs;
        this.source = source;
    }

    public static Path defaultFile(File gatewayDataDir) {
        return gatewayDataDir.toPath().resolve("aimonitor").resolve("aimonitor.properties");
    }

    /** Loads the file (if present) and applies system-property overrides; throws with the key name on a bad value. */
    public static SidecarSettings load(Path defaultFile) throws IOException {
        String override = System.getProperty(FILE_PROPERTY);
        Path file = override != null && !override.isEmpty() ? Path.of(override) : defaultFile;
        Properties p = new Properties();
        boolean exists = Files.isRegularFile(file);
        if (exists) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            }
        } else if (override != null && !override.isEmpty()) {
            throw new IOException(FILE_PROPERTY + " names " + file + ", which does not exist");
        }
        String url = value(p, "sidecar.url", "http://127.0.0.1:8787");
        URI uri;
        try {
            uri = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        } catch (IllegalArgumentException e) {
            throw new IOException("sidecar.url '" + url + "' is not a URL", e);
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IOException("sidecar.url must be http(s)://host[:port], got '" + url + "'");
        }
        String secret = value(p, "sidecar.gatewaySecret", null);
        if (secret != null && secret.length() < MIN_SECRET_LENGTH) {
            throw new IOException("sidecar.gatewaySecret must be at least " + MIN_SECRET_LENGTH + " characters, got " + secret.length());
        }
        long timeout = number(p, "sidecar.requestTimeoutMs", 10_000);
        long retry = number(p, "sidecar.streamRetryMs", 3_000);
        return new SidecarSettings(uri, secret, timeout, retry, exists ? file.toString() : "defaults (no " + file + ")");
    }

    private static String value(Properties p, String key, String fallback) {
        String sys = System.getProperty("aimonitor." + key);
        if (sys != null && !sys.isEmpty()) return sys.trim();
        String v = p.getProperty(key);
        return v == null || v.trim().isEmpty() ? fallback : v.trim();
    }

    private static long number(Properties p, String key, long fallback) throws IOException {
        String v = value(p, key, null);
        if (v == null) return fallback;
        try {
            long n = Long.parseLong(v);
            if (n <= 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IOException(key + " must be a positive whole number of milliseconds, got '" + v + "'");
        }
    }

    /** True when the sidecar is on this machine; anything else should use https. */
    public boolean isLoopback() {
        String h = baseUrl.getHost();
        return "localhost".equals(h) || "127.0.0.1".equals(h) || "[::1]".equals(h) || "::1".equals(h);
    }
}
