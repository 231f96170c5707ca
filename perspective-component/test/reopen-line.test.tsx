/**
 * The card's reopen line: a recommendation raised past a rejection of its pattern shows why, in
 * muted text under the pattern history; one that is not a reopening (or comes from an older
 * sidecar) shows no line. The wire check refuses a non-string reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, screen } from '@testing-library/react';
import { parseRecommendation } from '../src/api/parse.ts';
import { TransportError } from '../src/api/transport.ts';
import { buildRecommendation } from './support/builders.ts';
import { renderPanel } from './support/render-panel.tsx';

const cardOf = (name: RegExp): HTMLElement =>
  screen.getByRole('button', { name }).closest('li') as HTMLElement;
const reopenLine = (c: HTMLElement): HTMLElement | null => c.querySelector('p.aim-reopen');
const REASON = 'Reopened: Flow now leads (the rejected alarm was led by Temperature)';
const HISTORY = { approved: 0, rejected: 1, lastRejectionNote: 'motor cool-down', lastDecidedAt: null };

afterEach(cleanup);

describe('reopen line on the card', () => {
  it('shows the reason under the pattern history; none when not a reopening or from an older sidecar', async () => {
    const { transport } = await renderPanel([
      buildRecommendation({
        id: 'r1',
        reopenedFrom: 'rec-0',
        reopenReason: REASON,
        patternHistory: HISTORY,
      }),
      buildRecommendation({ id: 'p', equipmentId: 'PUMP_02', reopenedFrom: null, reopenReason: null }),
      buildRecommendation({ id: 'old', equipmentId: 'KILN_04' }),
    ]);
    const reactor = cardOf(/REACTOR_01/);
    const line = reopenLine(reactor) as HTMLElement;
    expect(line.textContent).toBe(REASON);
    expect(line.getAttribute('data-reopened-from')).toBe('rec-0');
    expect(line.previousElementSibling?.className).toBe('aim-history');
    expect(reopenLine(cardOf(/PUMP_02/))).toBeNull();
    expect(reopenLine(cardOf(/KILN_04/))).toBeNull();

    // Live over the stream: a change that makes a card a reopening adds the line.
    act(() =>
      transport.listener?.onChange({
        seq: 5,
        type: 'recommendation',
        recommendation: buildRecommendation({
          id: 'p',
          equipmentId: 'PUMP_02',
          reopenedFrom: 'rec-9',
          reopenReason: 'Reopened: HIGH (rejected at MEDIUM)',
        }),
      }),
    );
    expect(reopenLine(cardOf(/PUMP_02/))?.textContent).toBe('Reopened: HIGH (rejected at MEDIUM)');
  });

  it('the wire check accepts a string or null and names a bad reason', () => {
    const ok = buildRecommendation({ reopenedFrom: 'rec-0', reopenReason: REASON });
    expect(parseRecommendation(JSON.parse(JSON.stringify(ok))).reopenReason).toBe(REASON);
    expect(() => parseRecommendation({ ...ok, reopenReason: 42 })).toThrow(TransportError);
    expect(() => parseRecommendation({ ...ok, reopenedFrom: {} })).toThrow(
      /recommendation\.reopenedFrom must be a string or null/,
    );
  });
});
