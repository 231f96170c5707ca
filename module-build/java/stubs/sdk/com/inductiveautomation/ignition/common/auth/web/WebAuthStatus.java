package com.inductiveautomation.ignition.common.auth.web;

import java.util.Optional;

/** Compile-only stub; the package of WebAuthStatus is UNCERTAIN (ignition-sdk-notes.md §3.5). */
public interface WebAuthStatus {
    Optional<WebAuthUser> getUser();
}
