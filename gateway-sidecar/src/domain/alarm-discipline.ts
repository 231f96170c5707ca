/**
 * ISA-18.2 alarm-management discipline applied to ML recommendations. Pure and in memory; the
 * caller persists shelves and modes and feeds time in as `nowMs`.
 *
 * - Shelving: an equipment/issue pattern ('*' = every issue) is silenced for a bounded time with a
 *   required reason, and returns by itself when the time is up.
 * - Operating modes: MAINTENANCE and STARTUP suppress (a plant in those modes behaves abnormally
 *   on purpose; recommendations would be nuisance alarms).
 * - Flood control: at most `limitPer10Min` new recommendations per area per 10-minute window reach
 *   operators; the rest is grouped into one summary per area and window by the caller.
 * - Chattering: a pattern that raises `chatterCount` new recommendations within `chatterWindowMs`.
 * - KPIs: recommendations per operator per hour, % of 10-minute windows in flood, chattering patterns.
 *
 * After a restart (kill -9 included) `restore()` rebuilds the bookkeeping from the rows already in
 * the database (recommendations, flood summaries, decisions), so a flood that was under way stays
 * a flood: the restarted sidecar lets no more through in that window than an uninterrupted one.
 */

export const WINDOW_10_MIN_MS = 600_000;
const HOUR_MS = 3_600_000;

export const SUPPRESSING_MODES: readonly string[] = ['MAINTENANCE', 'STARTUP'];

/** The operating modes an operator can set through the API: normal running plus the suppressing ones. */
export const OPERATING_MODES = ['RUN', 'MAINTENANCE', 'STARTUP'] as const;
export type OperatingMode = (typeof OPERATING_MODES)[number];

/**
 * The canonical operating mode a text names (any case; spaces, '_' and '-' ignored, so 'start-up'
 * is STARTUP), or undefined for anything else ('MAINTENACE', 'BROKEN').
 */
export function canonicalMode(mode: string): OperatingMode | undefined {
  const m = mode
    .trim()
    .toUpperCase()
    .replace(/[\s_-]/g, '');
  return OPERATING_MODES.find((k) => k === m);
}

/** MAINTENANCE / STARTUP (any case; 'START-UP', 'start_up' and 'Start up' count as STARTUP). */
export function isSuppressingMode(mode: string | undefined): boolean {
  const m = mode === undefined ? undefined : canonicalMode(mode);
  return m !== undefined && SUPPRESSING_MODES.includes(m);
}

export interface Shelf {
  readonly id: number;
  readonly equipmentId: string;
  /** An issue type, or '*' for every issue of the equipment. */
  readonly issueType: string;
  readonly reason: string;
  readonly by: string;
  readonly fromMs: number;
  readonly untilMs: number;
}

export interface ShelveRequest {
  readonly equipmentId: string;
  readonly issueType: string;
  readonly reason: string;
  readonly durationMinutes: number;
}

/** Returns null when valid, else `{ field, message }` naming the problem. */
export function validateShelveRequest(
  req: ShelveRequest,
  maxHours: number,
): { field: string; message: string } | null {
  if (req.equipmentId.trim() === '') return { field: 'equipmentId', message: '`equipmentId` is required' };
  if (req.issueType.trim() === '')
    return { field: 'issueType', message: "`issueType` is required ('*' for every issue)" };
  if (req.reason.trim() === '') return { field: 'reason', message: '`reason` is required to shelve' };
  if (!Number.isFinite(req.durationMinutes) || req.durationMinutes <= 0) {
    return {
      field: 'durationMinutes',
      message: `\`durationMinutes\` must be a positive number, got ${req.durationMinutes}`,
    };
  }
  if (req.durationMinutes > maxHours * 60) {
    return {
      field: 'durationMinutes',
      message: `\`durationMinutes\` may be at most ${maxHours * 60} (shelving is bounded)`,
    };
  }
  return null;
}

/** The active shelf covering the pattern at `nowMs`, if any. */
export function findShelf(
  shelves: readonly Shelf[],
  equipmentId: string,
  issueType: string,
  nowMs: number,
): Shelf | undefined {
  return shelves.find(
    (s) =>
      s.equipmentId === equipmentId &&
      (s.issueType === '*' || s.issueType === issueType) &&
      s.fromMs <= nowMs &&
      nowMs < s.untilMs,
  );
}

export interface DisciplineOptions {
  readonly limitPer10Min: number;
  readonly chatterCount: number;
  readonly chatterWindowMs: number;
}

export interface AlarmKpis {
  /** New recommendations that reached operators in the last hour, per active operator (≥ 1). */
  readonly recommendationsPerOperatorHour: number;
  /** Share of the 10-minute windows since start (at most the last 24 h) with any area in flood, in %. */
  readonly floodWindowPct: number;
  /** Patterns (equipment|issue) chattering now. */
  readonly chatteringPatterns: readonly string[];
  readonly suppressed: Readonly<Record<SuppressReason, number>>;
  readonly grouped: number;
}

export type SuppressReason = 'mode' | 'shelved' | 'below_confidence';

/** The recent past as the database holds it (see pg-alarm-discipline-queries.ts `disciplineHistory`). */
export interface DisciplineHistory {
  /** New recommendations that reached operators (flood summaries excluded), when each was created. */
  readonly raised: readonly { readonly area: string; readonly pattern: string; readonly atMs: number }[];
  /** Creation times of flood summaries: each marks a 10-minute window in flood. */
  readonly floodSummariesAtMs: readonly number[];
  /** Operator decisions (approve, approval_recorded, defer, reject). */
  readonly decisions: readonly { readonly user: string; readonly atMs: number }[];
}

/** How far back `restore()` needs the history: the 24 h the flood KPI looks at. */
export const DISCIPLINE_HISTORY_MS = 24 * HOUR_MS;

/** Flood, chattering and KPI bookkeeping (in-memory; restarts begin a new measurement period). */
export class AlarmDiscipline {
  readonly #o: DisciplineOptions;
  #startMs: number;
  /** `${area}|${window}` -> new recommendations admitted in that window. */
  readonly #admitted = new Map<string, number>();
  readonly #floodWindows = new Set<number>();
  readonly #raisedAt: number[] = [];
  readonly #patternRaises = new Map<string, number[]>();
  readonly #deciders: { user: string; atMs: number }[] = [];
  readonly #suppressed: Record<SuppressReason, number> = { mode: 0, shelved: 0, below_confidence: 0 };
  #grouped = 0;

  constructor(options: DisciplineOptions, startMs: number) {
    if (!(options.limitPer10Min >= 1))
      throw new RangeError(`limitPer10Min must be at least 1, got ${options.limitPer10Min}`);
    this.#o = options;
    this.#startMs = startMs;
  }

  /**
   * Asks to let one NEW recommendation of `area` through at `nowMs`. True: admitted and counted.
   * False: the area is in flood for this window; the caller groups it into the summary.
   */
  admit(area: string, nowMs: number): boolean {
    const w = Math.floor(nowMs / WINDOW_10_MIN_MS);
    const key = `${area}|${w}`;
    const n = this.#admitted.get(key) ?? 0;
    if (n >= this.#o.limitPer10Min) {
      this.#floodWindows.add(w);
      this.#grouped++;
      return false;
    }
    this.#admitted.set(key, n + 1);
    this.#prune(nowMs);
    return true;
  }

  /** Records a new recommendation that reached operators; returns true when its pattern chatters. */
  recordRaised(pattern: string, nowMs: number): boolean {
    this.#raisedAt.push(nowMs);
    const list = this.#patternRaises.get(pattern) ?? [];
    list.push(nowMs);
    const recent = list.filter((t) => nowMs - t < this.#o.chatterWindowMs);
    this.#patternRaises.set(pattern, recent);
    return recent.length >= this.#o.chatterCount;
  }

  recordSuppressed(reason: SuppressReason): void {
    this.#suppressed[reason]++;
  }

  recordDecision(user: string, nowMs: number): void {
    this.#deciders.push({ user, atMs: nowMs });
  }

  kpis(nowMs: number): AlarmKpis {
    this.#prune(nowMs);
    const lastHour = this.#raisedAt.filter((t) => nowMs - t < HOUR_MS).length;
    const operators = new Set(this.#deciders.filter((d) => nowMs - d.atMs < HOUR_MS).map((d) => d.user)).size;
    const from = Math.max(this.#startMs, nowMs - 24 * HOUR_MS);
    const firstW = Math.floor(from / WINDOW_10_MIN_MS);
    const lastW = Math.floor(nowMs / WINDOW_10_MIN_MS);
    let flooded = 0;
    for (const w of this.#floodWindows) if (w >= firstW && w <= lastW) flooded++;
    const chattering: string[] = [];
    for (const [p, list] of this.#patternRaises) {
      if (list.filter((t) => nowMs - t < this.#o.chatterWindowMs).length >= this.#o.chatterCount)
        chattering.push(p);
    }
    return {
      recommendationsPerOperatorHour: lastHour / Math.max(1, operators),
      floodWindowPct: (100 * flooded) / (lastW - firstW + 1),
      chatteringPatterns: chattering.sort(),
      suppressed: { ...this.#suppressed },
      grouped: this.#grouped,
    };
  }

  /**
   * Replaces flood counts, chattering, raised/decided times and flood windows by what `history`
   * says (at most DISCIPLINE_HISTORY_MS before `nowMs`): the database holds every recommendation
   * this bookkeeping counted, so rebuilding is safe at any time; at start it continues the state
   * a crash lost. The measurement period starts at the oldest restored entry if that is earlier;
   * suppressed and grouped counts are not in the database and are kept as they are.
   */
  restore(history: DisciplineHistory, nowMs: number): void {
    const from = nowMs - DISCIPLINE_HISTORY_MS;
    let oldest = this.#startMs;
    this.#admitted.clear();
    this.#raisedAt.length = 0;
    this.#patternRaises.clear();
    this.#floodWindows.clear();
    this.#deciders.length = 0;
    const raised = history.raised
      .filter((r) => r.atMs >= from && r.atMs <= nowMs)
      .sort((a, b) => a.atMs - b.atMs);
    for (const r of raised) {
      const key = `${r.area}|${Math.floor(r.atMs / WINDOW_10_MIN_MS)}`;
      this.#admitted.set(key, (this.#admitted.get(key) ?? 0) + 1);
      this.#raisedAt.push(r.atMs);
      const list = this.#patternRaises.get(r.pattern) ?? [];
      list.push(r.atMs);
      this.#patternRaises.set(r.pattern, list);
      oldest = Math.min(oldest, r.atMs);
    }
    for (const t of history.floodSummariesAtMs) {
      if (t < from || t > nowMs) continue;
      this.#floodWindows.add(Math.floor(t / WINDOW_10_MIN_MS));
      oldest = Math.min(oldest, t);
    }
    const decisions = history.decisions
      .filter((d) => d.atMs >= from && d.atMs <= nowMs)
      .sort((a, b) => a.atMs - b.atMs);
    for (const d of decisions) this.#deciders.push({ user: d.user, atMs: d.atMs });
    this.#raisedAt.sort((a, b) => a - b);
    this.#deciders.sort((a, b) => a.atMs - b.atMs);
    this.#startMs = oldest;
    this.#prune(nowMs);
  }

  /** Keeps memory bounded: drop bookkeeping older than what any KPI looks at. */
  #prune(nowMs: number): void {
    const keep = Math.max(HOUR_MS, this.#o.chatterWindowMs);
    while (this.#raisedAt.length > 0 && nowMs - (this.#raisedAt[0] as number) >= keep) this.#raisedAt.shift();
    while (this.#deciders.length > 0 && nowMs - (this.#deciders[0] as { atMs: number }).atMs >= HOUR_MS)
      this.#deciders.shift();
    const currentW = Math.floor(nowMs / WINDOW_10_MIN_MS);
    for (const key of this.#admitted.keys()) {
      if (Number(key.slice(key.lastIndexOf('|') + 1)) < currentW - 1) this.#admitted.delete(key);
    }
    for (const w of this.#floodWindows) if (w < currentW - 144) this.#floodWindows.delete(w);
    for (const [p, list] of this.#patternRaises) {
      if (list.every((t) => nowMs - t >= this.#o.chatterWindowMs)) this.#patternRaises.delete(p);
    }
  }
}
