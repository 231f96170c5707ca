package com.inductiveautomation.ignition.designer.model;

/** Compile-only stub. */
public interface DesignerContext {
}
