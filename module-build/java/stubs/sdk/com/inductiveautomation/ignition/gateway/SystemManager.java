package com.inductiveautomation.ignition.gateway;

import java.io.File;

/** Compile-only stub; package UNCERTAIN. Module code calls it guarded (LinkageError falls back to ./data). */
public interface SystemManager {
    File getDataDir();
}
