/**
 * The bundle's entry registers with the (stand-in) ComponentRegistry and runs the way a
 * Perspective view drives it: props tree, props reducer, emit() on the root, component events,
 * selectedId write-back, and the delegate transport with a gateway that follows
 * DELEGATE-PROTOCOL.md.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { act, fireEvent, screen } from '@testing-library/react';
import {
  ComponentRegistry,
  mountComponent,
  type MountedComponent,
} from '../preview/stand-in/perspective-stand-in.ts';
import '../src/index.ts';
import { RECOMMENDATIONS_COMPONENT_TYPE } from '../src/component-types.ts';
import { DEFAULT_PROPS, readProps } from '../src/components/recommendations/recommendations.props.ts';
import propsSchema from '../props.json' with { type: 'json' };
import { buildRecommendation } from './support/builders.ts';
import { flush } from './support/scripted-transport.ts';

let mounted: MountedComponent | null = null;
afterEach(() => {
  act(() => mounted?.unmount());
  mounted = null;
  document.body.innerHTML = '';
});

function host(): HTMLElement {
  const el = document.createElement('div');
  document.body.append(el);
  return el;
}

describe('Perspective integration (stand-in runtime)', () => {
  it('registers under the component type shared with the Java hook', () => {
    const meta = ComponentRegistry.getMeta('aimonitor.display.recommendations');
    expect(meta?.getComponentType()).toBe(RECOMMENDATIONS_COMPONENT_TYPE);
    expect(meta?.getDefaultSize()).toEqual({ width: 480, height: 640 });
  });

  it('props.json defaults equal the reader defaults, and every prop has a description', () => {
    const props = propsSchema.properties as Record<string, { default: unknown; description?: string }>;
    for (const [key, value] of Object.entries(DEFAULT_PROPS)) {
      expect(props[key]?.default, key).toEqual(value);
    }
    for (const [key, p] of Object.entries(props)) expect(p.description, key).toBeTruthy();
    expect(readProps({})).toEqual(DEFAULT_PROPS);
    expect(readProps({ pageSize: 0, enabledActions: ['approve', 'drop'], transport: 'ws' })).toMatchObject({
      pageSize: 1,
      enabledActions: ['approve'],
      transport: 'delegate',
    });
  });

  it('renders bound data, fires onSelect and onDecision, writes selectedId back', async () => {
    const rec = buildRecommendation({ id: 'b1', proposedAction: null });
    await act(async () => {
      mounted = mountComponent(RECOMMENDATIONS_COMPONENT_TYPE, host(), {
        props: {
          recommendations: [rec],
          title: 'Line 1',
          style: { classes: 'psc-panel  big', maxWidth: '600px' },
        },
      });
      await flush();
    });
    const region = screen.getByRole('region', { name: 'Line 1' });
    expect(region.className).toBe('aim-root psc-panel big');
    expect(region.style.maxWidth).toBe('600px');
    expect(region.getAttribute('data-component')).toBe(RECOMMENDATIONS_COMPONENT_TYPE);
    fireEvent.click(screen.getByRole('button', { name: /REACTOR_01/ }));
    expect(mounted?.props.read('selectedId')).toBe('b1');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
      await flush();
    });
    expect(mounted?.events.map((e) => e.name)).toEqual(['onSelect', 'onDecision']);
    expect(mounted?.events[1]?.event).toMatchObject({
      id: 'b1',
      decision: 'approve',
      ok: true,
      status: 'approved',
    });
    expect(region.querySelector('[data-recommendation-id="b1"]')?.getAttribute('data-status')).toBe(
      'approved',
    );
    // The designer re-binds: the panel shows the new data.
    await act(async () => {
      mounted?.props.write('recommendations', [buildRecommendation({ id: 'b2', equipmentId: 'KILN_04' })]);
      await flush();
    });
    expect(screen.getByRole('button', { name: /KILN_04/ })).toBeTruthy();
    expect(screen.queryByRole('button', { name: /REACTOR_01/ })).toBeNull();
  });

  it('fires no events and takes no decisions in design mode', async () => {
    await act(async () => {
      mounted = mountComponent(RECOMMENDATIONS_COMPONENT_TYPE, host(), {
        props: { recommendations: [buildRecommendation({ proposedAction: null })] },
        eventsEnabled: false,
      });
      await flush();
    });
    fireEvent.click(screen.getByRole('button', { name: /REACTOR_01/ }));
    expect((screen.getByRole('button', { name: 'Approve' }) as HTMLButtonElement).disabled).toBe(true);
    expect(mounted?.events).toEqual([]);
  });

  it('talks to the gateway delegate by default', async () => {
    const seen: string[] = [];
    const rec = buildRecommendation({ id: 'g1', proposedAction: null, version: 2 });
    await act(async () => {
      mounted = mountComponent(RECOMMENDATIONS_COMPONENT_TYPE, host(), {
        props: {},
        gateway: (name, payload, reply) => {
          seen.push(name);
          if (name === 'subscribe') reply('stream-state', { state: 'online' });
          if (name === 'list-request')
            reply('list-response', { requestId: payload.requestId, items: [rec], total: 1 });
          if (name === 'alerts-request')
            reply('alerts-response', { requestId: payload.requestId, items: [] });
          if (name === 'decide-request') {
            reply('decide-response', {
              requestId: payload.requestId,
              recommendation: { ...rec, status: 'approved', version: 3 },
            });
            setTimeout(
              () =>
                reply('change', {
                  seq: 5,
                  type: 'recommendation',
                  recommendation: { ...rec, status: 'executed', version: 4, writeResult: null },
                }),
              0,
            );
          }
        },
      });
    });
    await act(flush); // effects (subscribe, load) run when the mount's act scope ends
    expect(screen.getByRole('status').textContent).toBe('Live');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
      await flush();
      await flush();
    });
    expect(seen).toEqual(['subscribe', 'alerts-request', 'list-request', 'decide-request']);
    expect(document.querySelector('[data-recommendation-id="g1"]')?.getAttribute('data-status')).toBe(
      'executed',
    );
  });
});
