/**
 * Renders the whole panel (RecommendationsView over a RecommendationsStore) on a ScriptedTransport
 * holding `items`, at a fixed clock, and lets the first load settle. Shared by the jsdom view tests.
 */
import * as React from 'react';
import { act, render } from '@testing-library/react';
import { RecommendationsStore } from '../../src/components/recommendations/recommendations.store.ts';
import {
  RecommendationsView,
  type ViewConfig,
} from '../../src/components/recommendations/RecommendationsView.tsx';
import type { Recommendation } from '../../src/api/types.ts';
import { ScriptedTransport, flush } from './scripted-transport.ts';

export const PANEL_CONFIG: ViewConfig = {
  title: 'AI Recommendations',
  enabledActions: ['approve', 'defer', 'reject'],
  requireNotes: false,
  deferOptions: [15, 60, 240],
  showFilters: true,
  eventsEnabled: true,
};

export async function renderPanel(
  items: Recommendation[],
  config: Partial<ViewConfig> = {},
): Promise<{ transport: ScriptedTransport; store: RecommendationsStore }> {
  const transport = new ScriptedTransport();
  transport.items = items;
  const store = new RecommendationsStore({
    transport,
    pageSize: 25,
    now: () => Date.parse('2026-11-29T08:10:00Z'),
  });
  render(
    <RecommendationsView
      store={store}
      config={{ ...PANEL_CONFIG, ...config }}
      rootProps={{ className: 'aim-root' }}
    />,
  );
  await act(async () => {
    store.start();
    await flush();
  });
  return { transport, store };
}
