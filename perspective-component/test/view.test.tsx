/** Rendering: accessible roles and names, the confirmation step, required notes, focus, states. */
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { TransportError } from '../src/api/transport.ts';
import type { Recommendation } from '../src/api/types.ts';
import { buildRecommendation } from './support/builders.ts';
import { renderPanel } from './support/render-panel.tsx';
import { flush } from './support/scripted-transport.ts';

function card(name: RegExp): HTMLElement {
  const title = screen.getByRole('button', { name });
  return title.closest('li') as HTMLElement;
}

afterEach(cleanup);

describe('RecommendationsView', () => {
  it('exposes a named region, a sorted list and labelled decision groups', async () => {
    await renderPanel([
      buildRecommendation({ id: 'm', equipmentId: 'PUMP_02', severity: 'medium', issueType: 'bearing_wear' }),
      buildRecommendation({ id: 'c', equipmentId: 'REACTOR_01', severity: 'critical' }),
    ]);
    expect(screen.getByRole('region', { name: 'AI Recommendations' })).toBeTruthy();
    const list = screen.getByRole('list', { name: /most severe first/ });
    const items = within(list)
      .getAllByRole('listitem')
      .filter((li) => li.parentElement === list);
    expect(items.map((li) => li.getAttribute('data-recommendation-id'))).toEqual(['c', 'm']);
    const c = card(/REACTOR_01/);
    expect(within(c).getByText('Critical')).toBeTruthy();
    expect(within(c).getByText('87%')).toBeTruthy();
    expect(within(c).getByText('10 min')).toBeTruthy();
    expect(c.textContent).toContain('45 °C');
    expect(c.textContent).not.toContain('45.0');
    expect(c.textContent).toContain('40 °C');
    expect(within(c).getByRole('list', { name: /Top contributing signals/ }).textContent).toContain(
      'Temperature: Z score 3.4 (55%)',
    );
    const group = within(c).getByRole('group', { name: 'Decide on REACTOR_01 Cooling degradation' });
    expect(
      within(group)
        .getAllByRole('button')
        .map((b) => b.textContent),
    ).toEqual(['Approve', 'Defer', 'Reject']);
    expect(screen.getByRole('status').textContent).toContain('Live');
  });

  it('asks for confirmation before a setpoint write, moves focus into the dialog and back', async () => {
    const { transport } = await renderPanel([buildRecommendation({ id: 'w', version: 6 })]);
    const approve = screen.getByRole('button', { name: 'Approve' });
    approve.focus();
    fireEvent.click(approve);
    const dialog = screen.getByRole('dialog', { name: 'Approve recommendation' });
    expect(dialog.textContent).toContain('from 45 °C to 40 °C');
    expect(dialog.textContent).toContain('[default]Reactors/R01/CoolingSetpoint');
    expect(dialog.contains(document.activeElement)).toBe(true);
    expect(transport.decideCalls).toHaveLength(0);
    fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    await act(async () => new Promise((r) => requestAnimationFrame(() => r(undefined))));
    expect(document.activeElement).toBe(approve);
    fireEvent.click(approve);
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Confirm approve' }));
    expect(transport.decideCalls).toEqual([
      { id: 'w', request: { decision: 'approve', expectedVersion: 6 } },
    ]);
    expect(within(card(/REACTOR_01/)).getByText('Approving…')).toBeTruthy();
  });

  it('says when a change needs a second approver', async () => {
    const base = buildRecommendation();
    await renderPanel([
      buildRecommendation({
        proposedAction: {
          ...(base.proposedAction as NonNullable<Recommendation['proposedAction']>),
          requiresSecondApprover: true,
        },
      }),
    ]);
    expect(screen.getByText('Needs a second approver')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
    expect(screen.getByRole('dialog').textContent).toContain('needs a second approver');
  });

  it('approves without a dialog when nothing is written', async () => {
    const { transport } = await renderPanel([buildRecommendation({ id: 'n', proposedAction: null })]);
    expect(screen.getByText('No setpoint change proposed')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(transport.decideCalls.map((c) => c.request.decision)).toEqual(['approve']);
  });

  it('requires a note to reject', async () => {
    const { transport } = await renderPanel([buildRecommendation({ id: 'r' })]);
    fireEvent.click(screen.getByRole('button', { name: 'Reject' }));
    const dialog = screen.getByRole('dialog', { name: 'Reject recommendation' });
    const note = within(dialog).getByRole('textbox', { name: 'Note (required)' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Confirm reject' }));
    expect(within(dialog).getByRole('alert').textContent).toBe(
      'A note is required to reject this recommendation.',
    );
    expect(note.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(note);
    expect(transport.decideCalls).toHaveLength(0);
    fireEvent.change(note, { target: { value: 'Sensor under maintenance' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Confirm reject' }));
    expect(transport.decideCalls[0]?.request).toMatchObject({
      decision: 'reject',
      note: 'Sensor under maintenance',
    });
  });

  it('defers for the chosen duration', async () => {
    const { transport } = await renderPanel([buildRecommendation({ id: 'd' })]);
    fireEvent.click(screen.getByRole('button', { name: 'Defer' }));
    const dialog = screen.getByRole('dialog', { name: 'Defer recommendation' });
    fireEvent.change(within(dialog).getByRole('combobox', { name: 'Defer for' }), {
      target: { value: '240' },
    });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Confirm defer' }));
    expect(transport.decideCalls[0]?.request.deferUntil).toBe(
      new Date(Date.parse('2026-11-29T08:10:00Z') + 4 * 3600_000).toISOString(),
    );
  });

  it('rolls back and announces a conflict', async () => {
    const { transport } = await renderPanel([buildRecommendation({ id: 'k', proposedAction: null })]);
    fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
    expect(within(card(/REACTOR_01/)).getByText('Approving…')).toBeTruthy();
    await act(async () => {
      transport.answerDecision(new TransportError('SC_ERR_API_CONFLICT', 'stale', 409));
      await flush();
    });
    expect(screen.getByRole('alert').textContent).toContain('changed by someone else');
    expect(within(card(/REACTOR_01/)).getByText('Pending')).toBeTruthy();
  });

  it('disables decisions with a reason after a 403 and in design mode', async () => {
    const { transport } = await renderPanel([buildRecommendation({ id: 'v', proposedAction: null })]);
    fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
    await act(async () => {
      transport.answerDecision(
        new TransportError('SC_ERR_API_FORBIDDEN', "role 'viewer' may not decide", 403),
      );
      await flush();
    });
    const approve = screen.getByRole('button', { name: 'Approve' }) as HTMLButtonElement;
    expect(approve.disabled).toBe(true);
    expect(approve.getAttribute('aria-describedby')).toBeTruthy();
    expect(document.getElementById(approve.getAttribute('aria-describedby') ?? '')?.textContent).toContain(
      'not decide',
    );
    cleanup();
    await renderPanel([buildRecommendation()], { eventsEnabled: false });
    expect((screen.getByRole('button', { name: 'Reject' }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText('Decisions are disabled in design mode.')).toBeTruthy();
  });

  it('shows write results, empty, error and reconnecting states', async () => {
    const { transport, store } = await renderPanel([
      buildRecommendation({
        id: 'e',
        status: 'executed',
        writeResult: { ok: true, readBack: 40, previousValue: 45, reason: null, at: '2026-11-29T08:05:00Z' },
      }),
      buildRecommendation({
        id: 'f',
        equipmentId: 'PUMP_01',
        status: 'failed',
        writeResult: {
          ok: false,
          readBack: 45,
          previousValue: 45,
          reason: 'read-back 45 does not match 40',
          at: '2026-11-29T08:05:00Z',
        },
      }),
    ]);
    expect(screen.getByText('Executed: read back 40 °C')).toBeTruthy();
    expect(screen.getByText('Write failed: read-back 45 does not match 40')).toBeTruthy();
    expect(screen.queryByRole('group', { name: /Decide on/ })).toBeNull();
    act(() => transport.listener?.onConnection({ state: 'reconnecting', attempts: 2, detail: 'closed' }));
    expect(screen.getByRole('status').textContent).toBe('Reconnecting… (attempt 2)');
    act(() => transport.listener?.onConnection({ state: 'offline', attempts: 4, detail: 'refused' }));
    expect(screen.getByRole('status').textContent).toContain('Offline');
    transport.items = [];
    await act(async () => store.load());
    expect(screen.getByText('No recommendations. Equipment is running normally.')).toBeTruthy();
    transport.listError = new TransportError('SC_ERR_DB_CONNECT', 'database unreachable', 503);
    await act(async () => store.load());
    expect(screen.getByRole('alert').textContent).toContain(
      'Could not load recommendations: database unreachable',
    );
    transport.listError = null;
    transport.items = [buildRecommendation({ id: 'back' })];
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
      await flush();
    });
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getAllByRole('button', { name: /REACTOR_01/ })).toHaveLength(1);
  });

  it('shows the outcome of an executed write, worse styled apart, and updates it live', async () => {
    const written = {
      ok: true,
      readBack: 40,
      previousValue: 45,
      reason: null,
      at: '2026-11-29T08:05:00Z',
    } as const;
    const outcome = {
      checkedAt: '2026-11-29T08:36:00.000Z',
      writtenAt: '2026-11-29T08:05:00.000Z',
      windowMinutes: 30,
      before: { events: 30, anomalies: 24, meanScore: 0.71 },
      reverted: false,
    };
    const { transport } = await renderPanel([
      buildRecommendation({ id: 'ok', status: 'executed', writeResult: written }),
      buildRecommendation({
        id: 'bad',
        equipmentId: 'PUMP_01',
        status: 'executed',
        writeResult: written,
        outcome: {
          ...outcome,
          outcome: 'worse',
          after: { events: 30, anomalies: 29, meanScore: 0.93 },
          clearedAfterMinutes: null,
          reverted: true,
        },
      }),
    ]);
    const bad = within(card(/PUMP_01/))
      .getByText(/^Outcome:/)
      .closest('p') as HTMLElement;
    expect(bad.textContent).toBe(
      'Outcome: Worse — mean anomaly score 0.71 before the write, 0.93 after; reverted automatically',
    );
    expect(bad.className).toContain('aim-outcome-worse');
    expect(within(card(/REACTOR_01/)).queryByText(/^Outcome:/)).toBeNull();

    const ok = buildRecommendation({
      id: 'ok',
      status: 'executed',
      writeResult: written,
      outcome: {
        ...outcome,
        outcome: 'effective',
        after: { events: 26, anomalies: 1, meanScore: 0.15 },
        clearedAfterMinutes: 4,
      },
    });
    act(() => transport.listener?.onChange({ seq: 99, type: 'recommendation', recommendation: ok }));
    const line = within(card(/REACTOR_01/))
      .getByText(/^Outcome:/)
      .closest('p') as HTMLElement;
    expect(line.textContent).toBe('Outcome: Effective — anomaly cleared 4 min after the write');
    expect(line.getAttribute('data-outcome')).toBe('effective');
    expect(line.className).not.toContain('aim-outcome-worse');
  });

  it('shows the pattern’s earlier decisions under the confidence, quoting the last rejection', async () => {
    const note = 'normal cool-down after start-up';
    const { transport } = await renderPanel([
      buildRecommendation({
        id: 'h',
        patternHistory: {
          approved: 5,
          rejected: 2,
          lastRejectionNote: note,
          lastDecidedAt: '2026-11-28T07:00:00.000Z',
        },
      }),
      buildRecommendation({
        id: 'n',
        equipmentId: 'PUMP_02',
        issueType: 'bearing_wear',
        patternHistory: { approved: 0, rejected: 0, lastRejectionNote: null, lastDecidedAt: null },
      }),
      buildRecommendation({
        id: 'a',
        equipmentId: 'MILL_03',
        patternHistory: {
          approved: 3,
          rejected: 0,
          lastRejectionNote: null,
          lastDecidedAt: '2026-11-28T07:00:00.000Z',
        },
      }),
      buildRecommendation({ id: 'old', equipmentId: 'KILN_04' }),
    ]);
    const line = (c: HTMLElement) => c.querySelector('p.aim-history') as HTMLElement | null;
    const reactor = line(card(/REACTOR_01/)) as HTMLElement;
    expect(reactor.textContent).toBe(
      `Earlier on this pattern: 5 approved, 2 rejected — last rejection: “${note}”`,
    );
    // Directly under the facts with the confidence; the dash is not read out.
    expect(reactor.previousElementSibling?.tagName).toBe('DL');
    expect(within(reactor.previousElementSibling as HTMLElement).getByText('Confidence')).toBeTruthy();
    expect(within(reactor).getByText('—').getAttribute('aria-hidden')).toBe('true');
    expect(
      within(reactor)
        .getByText(/^last rejection:/)
        .getAttribute('title'),
    ).toBeNull();
    expect(line(card(/PUMP_02/))?.textContent).toBe('No earlier decisions on this pattern');
    expect(line(card(/MILL_03/))?.textContent).toBe('Earlier on this pattern: 3 approved, 0 rejected');
    // A change logged by an older sidecar has no history: no line rather than a false "none".
    expect(line(card(/KILN_04/))).toBeNull();

    // A long note is cut at a word with '…' (the whole note is the tooltip); live over the stream.
    const long = `${'pressure swing after the feed pump changeover '.repeat(8)}end`;
    act(() =>
      transport.listener?.onChange({
        seq: 7,
        type: 'recommendation',
        recommendation: buildRecommendation({
          id: 'n',
          equipmentId: 'PUMP_02',
          issueType: 'bearing_wear',
          patternHistory: { approved: 1, rejected: 1, lastRejectionNote: long, lastDecidedAt: null },
        }),
      }),
    );
    const pump = line(card(/PUMP_02/)) as HTMLElement;
    const quoted = within(pump).getByText(/^last rejection:/);
    const shown = /“(.*)”/.exec(quoted.textContent ?? '')?.[1] ?? '';
    expect(shown.endsWith('…')).toBe(true);
    expect(shown.length).toBeLessThanOrEqual(120);
    expect(long.startsWith(shown.slice(0, -1))).toBe(true);
    expect(shown.slice(0, -1).endsWith(' ')).toBe(false);
    expect(quoted.getAttribute('title')).toBe(long);
    expect(pump.textContent).toMatch(/^Earlier on this pattern: 1 approved, 1 rejected — last rejection: “/);
  });

  it('filters by equipment and severity through labelled selects', async () => {
    await renderPanel([
      buildRecommendation({ id: 'p', equipmentId: 'PUMP_01', severity: 'low' }),
      buildRecommendation({ id: 'r', equipmentId: 'REACTOR_01', severity: 'critical' }),
    ]);
    fireEvent.change(screen.getByRole('combobox', { name: 'Severity' }), { target: { value: 'high' } });
    expect(screen.queryByRole('button', { name: /PUMP_01/ })).toBeNull();
    fireEvent.change(screen.getByRole('combobox', { name: 'Severity' }), { target: { value: '' } });
    fireEvent.change(screen.getByRole('combobox', { name: 'Equipment' }), { target: { value: 'PUMP_01' } });
    expect(screen.queryByRole('button', { name: /REACTOR_01/ })).toBeNull();
    expect(screen.getByRole('button', { name: /PUMP_01/ })).toBeTruthy();
    await act(flush);
  });
});

describe('formatValue', () => {
  it('never rounds a setpoint coarser than the API sent it', async () => {
    const { formatValue } = await import('../src/components/recommendations/format.ts');
    expect(formatValue(63.75, '%')).toBe('63.75 %');
    expect(formatValue(80, '%')).toBe('80 %');
    expect(formatValue(0.1 + 0.2, '')).toBe('0.3');
    expect(formatValue(null, 'bar')).toBe('—');
  });
});
