package com.aimonitor.ignition.designer;

import com.aimonitor.ignition.common.AiMonitorComponents;
import com.aimonitor.ignition.common.RecommendationsDescriptor;
import com.inductiveautomation.ignition.common.licensing.LicenseState;
import com.inductiveautomation.ignition.designer.model.AbstractDesignerModuleHook;
import com.inductiveautomation.ignition.designer.model.DesignerContext;
import com.inductiveautomation.perspective.designer.DesignerComponentRegistry;
import com.inductiveautomation.perspective.designer.api.PerspectiveDesignerInterface;

/** Puts the component in the Designer's Perspective palette; without this it renders but cannot be dragged in. */
public class AiMonitorDesignerHook extends AbstractDesignerModuleHook {
    private DesignerComponentRegistry registry;

    @Override
    public void startup(DesignerContext context, LicenseState activationState) throws Exception {
        registry = PerspectiveDesignerInterface.get(context).getDesignerComponentRegistry();
        registry.registerComponent(RecommendationsDescriptor.create());
    }

    @Override
    public void shutdown() {
        if (registry != null) {
            registry.removeComponent(AiMonitorComponents.RECOMMENDATIONS_COMPONENT_TYPE);
            registry = null;
        }
    }
}
