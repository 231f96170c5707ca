package com.inductiveautomation.ignition.common.licensing;

/** Compile-only stub. */
public class LicenseState {
}
