/**
 * Bundle entry and the single registry: registers every component meta with Perspective's
 * ComponentRegistry when the script loads (Perspective loads it as a BrowserResource).
 */
import { ComponentRegistry } from '@inductiveautomation/perspective-client';
import { RecommendationsMeta } from './components/recommendations/recommendations.meta.ts';

export { MODULE_ID, MOUNT_ALIAS, RECOMMENDATIONS_COMPONENT_TYPE } from './component-types.ts';
export { RecommendationsMeta };

ComponentRegistry.register(new RecommendationsMeta());
