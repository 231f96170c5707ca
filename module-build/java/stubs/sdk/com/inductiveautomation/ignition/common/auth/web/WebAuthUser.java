package com.inductiveautomation.ignition.common.auth.web;

import java.util.Collection;

/** Compile-only stub. getUserName() is confirmed (MUS, 8.3); getRoles() is confirmed on 8.3 only (GSK), so module code reads roles reflectively. */
public interface WebAuthUser {
    String getUserName();
    Collection<String> getRoles();
}
