package com.aimonitor.ignition.gateway;

import com.inductiveautomation.ignition.common.auth.web.WebAuthUser;
import com.inductiveautomation.perspective.gateway.api.Session;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The operator as Perspective authenticated them: always read from the component's session,
 * never from a browser payload (ignition-sdk-notes.md §3.5).
 */
public final class SessionIdentity {
    public final String user;
    public final List<String> roles;
    /** False when this gateway's WebAuthUser has no readable getRoles(); the delegate logs it. */
    public final boolean rolesReadable;

    private SessionIdentity(String user, List<String> roles, boolean rolesReadable) {
        this.user = user;
        this.roles = Collections.unmodifiableList(roles);
        this.rolesReadable = rolesReadable;
    }

    /** Empty when the session has no logged-in user. */
    public static Optional<SessionIdentity> of(Session session) {
        Optional<WebAuthUser> user = session.getWebAuthStatus().getUser();
        if (user.isEmpty() || user.get().getUserName() == null || user.get().getUserName().isEmpty()) return Optional.empty();
        List<String> roles = roles(user.get());
        return Optional.of(new SessionIdentity(user.get().getUserName(), roles == null ? List.of() : roles, roles != null));
    }

    /**
     * WebAuthUser.getRoles() is documented for 8.3 only and its return type is not pinned down, so
     * it is looked up at run time: a linkage error here must not take the whole delegate down.
     * Without it the sidecar sees no roles and refuses role-gated actions, which is the safe side.
     */
    static List<String> roles(WebAuthUser user) {  // null = not readable on this gateway
        List<String> out = new ArrayList<>();
        try {
            // Looked up on the public SDK type: the gateway's implementing class need not be public.
            Method m = WebAuthUser.class.getMethod("getRoles");
            Object value = m.invoke(user);
            if (value instanceof Iterable) {
                for (Object r : (Iterable<?>) value) if (r != null) out.add(r.toString());
            } else if (value instanceof Object[]) {
                for (Object r : (Object[]) value) if (r != null) out.add(r.toString());
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
        Collections.sort(out);
        return out;
    }
}
