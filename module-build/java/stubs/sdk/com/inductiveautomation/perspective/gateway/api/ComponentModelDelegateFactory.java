package com.inductiveautomation.perspective.gateway.api;

/** Compile-only stub: Component -> ComponentModelDelegate, used as MyDelegate::new. */
@FunctionalInterface
public interface ComponentModelDelegateFactory {
    ComponentModelDelegate create(Component component);
}
