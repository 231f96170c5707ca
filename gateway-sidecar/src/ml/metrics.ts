/** Backtest figures: confusion counts, F1 / FAR / MAR, and alarm episodes after a dedup window. */

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface Figures {
  readonly f1: number;
  readonly far: number;
  readonly mar: number;
}

export function emptyConfusion(): Confusion {
  return { tp: 0, fp: 0, tn: 0, fn: 0 };
}

export function addRow(c: Confusion, label: number, flagged: boolean): void {
  if (flagged) {
    if (label > 0) c.tp++;
    else c.fp++;
  } else if (label > 0) c.fn++;
  else c.tn++;
}

export function addConfusion(into: Confusion, c: Confusion): void {
  into.tp += c.tp;
  into.fp += c.fp;
  into.tn += c.tn;
  into.fn += c.fn;
}

/** F1 = 2TP/(2TP+FP+FN); FAR = FP/(FP+TN); MAR = FN/(FN+TP). A 0/0 ratio is reported as 0. */
export function figuresOf(c: Confusion): Figures {
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  return {
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    far: ratio(c.fp, c.fp + c.tn),
    mar: ratio(c.fn, c.fn + c.tp),
  };
}

/**
 * Distinct alarm episodes: a flagged row starts a new episode unless it comes within `dedupMs` of
 * the last flagged row of the current one (the same condition re-raised is not a new alarm).
 */
export function countEpisodes(
  timestampsMs: readonly number[],
  flagged: readonly boolean[],
  dedupMs: number,
): number {
  let episodes = 0;
  let lastFlagged = -Infinity;
  for (let i = 0; i < flagged.length; i++) {
    if (!flagged[i]) continue;
    const t = timestampsMs[i] as number;
    if (t - lastFlagged > dedupMs) episodes++;
    lastFlagged = t;
  }
  return episodes;
}
