/**
 * The Perspective-facing component: turns props into a store with the right transport, wires
 * component events (onDecision, onSelect) and the selectedId write-back, and renders the view
 * on the root element Perspective's emit() describes.
 */
import * as React from 'react';
import type { ComponentProps, PlainObject } from '@inductiveautomation/perspective-client';
import { BoundTransport } from '../../api/bound-transport.ts';
import { DelegateTransport, type DelegateChannel } from '../../api/delegate-transport.ts';
import { HttpSseTransport } from '../../api/http-sse-transport.ts';
import type { Transport } from '../../api/transport.ts';
import type { Recommendation } from '../../api/types.ts';
import { readProps, type RecommendationsProps } from './recommendations.props.ts';
import { RecommendationsStore, type DecisionOutcome } from './recommendations.store.ts';
import { RecommendationsView } from './RecommendationsView.tsx';

/** Dev/preview only: the preview host puts a bearer token here (never a designer prop). */
interface PreviewConfig {
  readonly token?: string;
}
declare global {
  interface Window {
    __AIMONITOR__?: PreviewConfig;
  }
}

const AGE_TICK_MS = 30_000;

/** The designer's style classes and inline style go through emit(), so Perspective merges them in order. */
function emitProps(style: RecommendationsProps['style']): { classes: string[]; style: React.CSSProperties } {
  const { classes, ...css } = style;
  return {
    classes: ['aim-root', ...classes.split(/\s+/).filter(Boolean)],
    style: css as React.CSSProperties,
  };
}

function isChannel(value: unknown): value is DelegateChannel {
  const v = value as Partial<DelegateChannel> | null | undefined;
  return typeof v?.fireEvent === 'function' && typeof v.onEvent === 'function';
}

function createTransport(p: RecommendationsProps, delegate: unknown): Transport {
  if (p.recommendations) return new BoundTransport(p.recommendations);
  if (p.transport === 'delegate' && isChannel(delegate)) return new DelegateTransport(delegate);
  return new HttpSseTransport({ baseUrl: p.apiBaseUrl, token: () => window.__AIMONITOR__?.token ?? null });
}

/** Takes Perspective's plain props (the reducer already ran readProps; reading again is cheap and total). */
export function RecommendationsComponent(cp: ComponentProps<PlainObject>): React.ReactElement {
  const p = readProps(cp.props);
  const latest = React.useRef(cp);
  latest.current = cp;
  const bound = p.recommendations !== null;
  // A new store (and transport) only when the data source or the server-side query changes.
  const storeKey = bound
    ? 'bound'
    : JSON.stringify([
        p.transport,
        p.apiBaseUrl,
        p.pageSize,
        p.filters.equipmentId,
        p.filters.severity,
        p.filters.status,
      ]);

  const store = React.useMemo(
    () =>
      new RecommendationsStore({
        transport: createTransport(p, cp.store?.delegate),
        pageSize: p.pageSize,
        filter: p.filters,
        onDecided: (outcome: DecisionOutcome) => {
          const c = latest.current;
          if (c.eventsEnabled) c.componentEvents?.fireComponentEvent('onDecision', { ...outcome });
        },
      }),
    // storeKey stands for every input that needs a new store (deps are intentionally not the objects).
    [storeKey],
  );

  React.useEffect(() => {
    store.start();
    const timer = setInterval(store.tick, AGE_TICK_MS);
    return () => {
      clearInterval(timer);
      store.stop();
    };
  }, [store]);

  // Compared by content: Perspective hands a fresh array on every props update.
  const boundJson = bound ? JSON.stringify(p.recommendations) : '';
  const boundSeen = React.useRef(boundJson);
  React.useEffect(() => {
    if (boundSeen.current === boundJson) return;
    boundSeen.current = boundJson;
    if (p.recommendations && store.transport instanceof BoundTransport)
      store.transport.update(p.recommendations);
    // boundJson stands for p.recommendations (compared by content, see above).
  }, [boundJson, store]);

  React.useEffect(() => {
    if (p.selectedId !== store.state.selectedId) store.select(p.selectedId);
  }, [p.selectedId, store]);

  const onSelect = (rec: Recommendation): void => {
    const c = latest.current;
    if (!c.eventsEnabled) return;
    c.store?.props?.write('selectedId', rec.id);
    c.componentEvents?.fireComponentEvent('onSelect', {
      id: rec.id,
      equipmentId: rec.equipmentId,
      issueType: rec.issueType,
      severity: rec.severity,
      status: rec.status,
    });
  };

  return (
    <RecommendationsView
      store={store}
      rootProps={cp.emit(emitProps(p.style))}
      onSelect={onSelect}
      config={{
        title: p.title,
        enabledActions: p.enabledActions,
        requireNotes: p.requireNotes,
        deferOptions: p.deferOptions,
        showFilters: p.showFilters,
        eventsEnabled: cp.eventsEnabled,
      }}
    />
  );
}
