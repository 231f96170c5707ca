package com.aimonitor.ignition.gateway;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The gateway-signed identity header, byte-compatible with the sidecar's verifier
 * (gateway-sidecar/src/adapters/http/gateway-identity.ts):
 * {@code v1.<b64url(JSON {u,r,t,n,m,p})>.<b64url(HMAC-SHA256(secret, "v1." + payload))>}.
 * A fresh nonce per request lets the sidecar refuse replays.
 */
public final class GatewayIdentitySigner {
    public static final String HEADER = "x-ignition-identity";
    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();
    private final LongSupplier clockMs;

    public GatewayIdentitySigner(String secret, LongSupplier clockMs) {
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        this.clockMs = clockMs;
    }

    public String sign(String user, List<String> roles, String method, String path) {
        byte[] nonce = new byte[12];
        random.nextBytes(nonce);
        StringBuilder json = new StringBuilder(128);
        json.append("{\"u\":");
        quote(user, json);
        json.append(",\"r\":[");
        for (int i = 0; i < roles.size(); i++) {
            if (i > 0) json.append(',');
            quote(roles.get(i), json);
        }
        json.append("],\"t\":").append(clockMs.getAsLong());
        json.append(",\"n\":\"").append(B64URL.encodeToString(nonce)).append('"');
        json.append(",\"m\":");
        quote(method.toUpperCase(Locale.ROOT), json);
        json.append(",\"p\":");
        quote(path, json);
        json.append('}');
        String payload = B64URL.encodeToString(json.toString().getBytes(StandardCharsets.UTF_8));
        return "v1." + payload + "." + B64URL.encodeToString(hmac("v1." + payload));
    }

    private byte[] hmac(String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            // HmacSHA256 is mandatory in every Java SE runtime; reaching this is a broken JVM.
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** JSON string quoting (RFC 8259): quote, backslash and control characters escaped. */
    static void quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        out.append('"');
    }
}
