/**
 * DelegateTransport through the real browser delegate class (RecommendationsDelegate) on the
 * stand-in ComponentStoreDelegate, with a scripted gateway that follows DELEGATE-PROTOCOL.md.
 */
import { describe, expect, it } from 'vitest';
import type { JsObject } from '@inductiveautomation/perspective-client';
import { DELEGATE_MESSAGES, DelegateTransport } from '../src/api/delegate-transport.ts';
import type { ConnectionInfo } from '../src/api/transport.ts';
import { RecommendationsDelegate } from '../src/components/recommendations/recommendations.delegate.ts';
import { buildRecommendation } from './support/builders.ts';
import { flush } from './support/scripted-transport.ts';

type Reply = (name: string, payload: JsObject) => void;

function setup(gateway: (name: string, payload: JsObject, reply: Reply) => void) {
  const component = { __gateway: gateway, addressPathString: '0:1' };
  const delegate = new RecommendationsDelegate(component);
  return { delegate, transport: new DelegateTransport(delegate, { requestTimeoutMs: 200 }) };
}

describe('DelegateTransport', () => {
  it('answers list-request with list-response, matched by requestId', async () => {
    const received: [string, JsObject][] = [];
    const { transport } = setup((name, payload, reply) => {
      received.push([name, payload]);
      if (name === DELEGATE_MESSAGES.LIST_REQUEST) {
        reply(DELEGATE_MESSAGES.LIST_RESPONSE, {
          requestId: payload.requestId,
          items: [buildRecommendation({ id: 'd1' })],
          total: 1,
        });
      }
    });
    const result = await transport.list({ status: ['pending'], limit: 10, offset: 0 });
    expect(result.items.map((r) => r.id)).toEqual(['d1']);
    expect(received[0]).toEqual([
      'list-request',
      { requestId: 'r1', filter: { status: ['pending'], limit: 10, offset: 0 } },
    ]);
  });

  it('turns an error message into a TransportError with code and status', async () => {
    const { transport } = setup((name, payload, reply) => {
      if (name === DELEGATE_MESSAGES.DECIDE_REQUEST) {
        reply(DELEGATE_MESSAGES.ERROR, {
          requestId: payload.requestId,
          code: 'SC_ERR_API_FORBIDDEN',
          message: 'viewer',
          status: 403,
        });
      }
    });
    const err = await transport
      .decide('x', { decision: 'approve', expectedVersion: 1 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SC_ERR_API_FORBIDDEN', status: 403, isForbidden: true });
  });

  it('times out a request the gateway never answers', async () => {
    const { transport } = setup(() => undefined);
    const err = await transport.list({ limit: 1, offset: 0 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CLIENT_ERR_TIMEOUT' });
  });

  it('subscribes with the last seq, relays change pushes and stream-state, and resumes', async () => {
    const sent: [string, JsObject][] = [];
    let push: Reply = () => undefined;
    const { transport } = setup((name, payload, reply) => {
      sent.push([name, payload]);
      push = reply;
    });
    const changes: number[] = [];
    const states: ConnectionInfo[] = [];
    let resumed = 0;
    const stop = transport.subscribe({
      onChange: (c) => changes.push(c.seq),
      onConnection: (s) => states.push(s),
      onResumed: () => resumed++,
    });
    await flush();
    expect(sent[0]).toEqual(['subscribe', { lastSeq: null }]);
    push('stream-state', { state: 'online' });
    push('change', { seq: 11, type: 'recommendation', recommendation: buildRecommendation({ id: 'c' }) });
    push('change', { seq: 12, type: 'nonsense' }); // ignored, channel stays up
    push('stream-state', { state: 'reconnecting', attempts: 1, detail: 'sidecar down' });
    push('stream-state', { state: 'online' });
    expect(changes).toEqual([11]);
    expect(states.map((s) => s.state)).toEqual(['connecting', 'online', 'reconnecting', 'online']);
    expect(states[2]).toEqual({ state: 'reconnecting', attempts: 1, detail: 'sidecar down' });
    expect(resumed).toBe(1);
    stop();
    await flush();
    expect(sent.at(-1)).toEqual(['unsubscribe', {}]);
    const stop2 = transport.subscribe({
      onChange: () => undefined,
      onConnection: () => undefined,
      onResumed: () => undefined,
    });
    await flush();
    expect(sent.at(-1)).toEqual(['subscribe', { lastSeq: 11 }]);
    stop2();
  });
});
