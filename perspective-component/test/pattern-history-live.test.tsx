/**
 * A card learns another card's decision live: REACTOR_01 has two open recommendations of one
 * pattern. The operator has B's reject dialog open with a note typed when the stream brings A's
 * rejection and then B's sibling change (same version, new `patternHistory`). B's "Earlier on this
 * pattern" line changes without a reload, while the dialog stays open with the typed note, the
 * focus stays in it, and confirming sends that note.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import type { PatternHistory } from '../src/api/types.ts';
import { buildRecommendation } from './support/builders.ts';
import { renderPanel } from './support/render-panel.tsx';

const NONE: PatternHistory = { approved: 0, rejected: 0, lastRejectionNote: null, lastDecidedAt: null };
const NOTE_A = 'planned coolant flush';
const AFTER: PatternHistory = {
  approved: 0,
  rejected: 1,
  lastRejectionNote: NOTE_A,
  lastDecidedAt: '2026-11-29T08:09:00.000Z',
};
const TYPED = 'flow transmitter being recalibrated';

afterEach(cleanup);

const cardById = (id: string): HTMLElement =>
  document.querySelector(`li[data-recommendation-id="${id}"]`) as HTMLElement;
const historyOf = (id: string): string | null | undefined =>
  cardById(id).querySelector('p.aim-history')?.textContent;

describe('pattern history learned live by the other open cards', () => {
  it('updates B’s line while B’s reject dialog keeps the typed note and the focus', async () => {
    const a = buildRecommendation({ id: 'a', text: 'A: cooling behind', patternHistory: NONE });
    const b = buildRecommendation({ id: 'b', text: 'B: cooling behind again', patternHistory: NONE });
    const { transport } = await renderPanel([a, b]);
    expect(historyOf('b')).toBe('No earlier decisions on this pattern');

    fireEvent.click(within(cardById('b')).getByRole('button', { name: 'Reject' }));
    const dialog = screen.getByRole('dialog', { name: 'Reject recommendation' });
    const note = within(dialog).getByRole('textbox', { name: 'Note (required)' }) as HTMLTextAreaElement;
    fireEvent.change(note, { target: { value: TYPED } });
    expect(document.activeElement).toBe(note);

    // Another operator rejected A: the stream brings A's decision, then B's sibling change.
    act(() => {
      transport.listener?.onChange({
        seq: 20,
        type: 'recommendation',
        recommendation: { ...a, status: 'rejected', version: 2, operatorNotes: NOTE_A, decidedBy: 'otto' },
      });
      transport.listener?.onChange({
        seq: 21,
        type: 'recommendation',
        recommendation: { ...b, patternHistory: AFTER },
      });
    });
    expect(historyOf('b')).toBe(
      `Earlier on this pattern: 0 approved, 1 rejected — last rejection: “${NOTE_A}”`,
    );
    expect(transport.listCalls).toHaveLength(1);
    // The dialog is the same one, still open, with the typed note and the focus.
    expect(screen.getByRole('dialog', { name: 'Reject recommendation' })).toBe(dialog);
    expect(note.isConnected).toBe(true);
    expect(note.value).toBe(TYPED);
    expect(document.activeElement).toBe(note);

    fireEvent.click(within(dialog).getByRole('button', { name: 'Confirm reject' }));
    expect(transport.decideCalls).toEqual([
      { id: 'b', request: { decision: 'reject', expectedVersion: 1, note: TYPED } },
    ]);
  });
});
