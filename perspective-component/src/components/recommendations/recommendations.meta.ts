/** Registry entry for the recommendations panel: type id, view, default size, props reader, delegate. */
import type {
  AbstractUIElementStore,
  ComponentMeta,
  ComponentStoreDelegate,
  PComponent,
  PlainObject,
  PropertyTree,
  SizeObject,
} from '@inductiveautomation/perspective-client';
import { RECOMMENDATIONS_COMPONENT_TYPE } from '../../component-types.ts';
import { RecommendationsDelegate } from './recommendations.delegate.ts';
import { readProps } from './recommendations.props.ts';
import { RecommendationsComponent } from './Recommendations.tsx';

export class RecommendationsMeta implements ComponentMeta {
  getComponentType(): string {
    return RECOMMENDATIONS_COMPONENT_TYPE;
  }

  getViewComponent(): PComponent {
    return RecommendationsComponent;
  }

  getDefaultSize(): SizeObject {
    return { width: 480, height: 640 };
  }

  getPropsReducer(tree: PropertyTree): PlainObject {
    return readProps(tree.toPlainObject());
  }

  createDelegate(component: AbstractUIElementStore): ComponentStoreDelegate {
    return new RecommendationsDelegate(component);
  }
}
