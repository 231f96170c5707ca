/**
 * From scored readings to stored recommendations: anomalies are grouped per equipment, the
 * playbook chosen, and then, in this order, operating mode, minimum confidence, shelving and flood
 * control decide whether it reaches operators (ISA-18.2: a suppressed one is counted, a flooded
 * one is grouped into the area's summary, nothing is dropped silently). The store upserts by dedup
 * key. A rejected row takes the later events of its key only while they look like what the
 * operator rejected; different-looking ones raise a new recommendation under a derived key
 * (`<key>|reopen:n`, domain/reopen.ts), which goes through flood control like any new one. LLM
 * enrichment runs after the insert, off the ingest path; on any failure the playbook text stands.
 */
import { AlarmDiscipline, findShelf, isSuppressingMode, type Shelf } from '../domain/alarm-discipline.ts';
import { dedupKey, floodSummaryKey, recommendationIdFor, reopenKey } from '../domain/dedup.ts';
import type { ScoredReading } from '../domain/detection.ts';
import type { EquipmentIndex } from '../domain/equipment.ts';
import { choosePlaybook, type PlaybookResult } from '../domain/playbooks.ts';
import {
  checkScoreMargin,
  judgeReopen,
  lookOf,
  REOPEN_REASONS,
  type ReopenReason,
} from '../domain/reopen.ts';
import type { Logger } from '../log.ts';
import type { Advisor, Clock, NewRecommendation, RecommendationStore, UpsertOutcome } from '../ports.ts';
import type { Change } from './recommendation-service.ts';

export interface EngineOptions {
  readonly minConfidence: number;
  readonly dedupWindowMinutes: number;
  readonly maxRecommendationsPer10Min: number;
  /** A batch scoring more than this above a rejected row's max score (at the decision) reopens. */
  readonly reopenScoreMargin: number;
}

/** Where a batch goes past a rejection: the rejected row's id, the card's reason, the counted reason. */
interface Reopen {
  readonly fromId: string;
  readonly reason: string;
  readonly kind: ReopenReason;
}

export interface EngineDeps {
  readonly store: RecommendationStore;
  readonly equipment: EquipmentIndex;
  readonly discipline: AlarmDiscipline;
  readonly shelves: () => readonly Shelf[];
  readonly modes: () => ReadonlyMap<string, string>;
  readonly liveSetpoints: ReadonlyMap<string, number>;
  readonly advisor: Advisor | undefined;
  /** Learned per-pattern confidence (app/learning.ts); replaces the playbook's when given. */
  readonly confidence?: (equipmentId: string, issueType: string, base: number) => number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options: EngineOptions;
  readonly publish: (change: Change) => void;
}

const KNOWN_KEYS_MAX = 10_000;
/** Reopenings of one window looked at when removing already recorded events from a replay. */
const CHAIN_LOOKUP = 32;

/** The playbook result narrowed to the events no row has recorded yet (same issue and text). */
function restOf(pb: PlaybookResult, rest: readonly ScoredReading[]): PlaybookResult {
  const look = lookOf(rest);
  return {
    ...pb,
    severity: look.severity,
    anomalyScore: look.score,
    explanation: rest
      .flatMap((a) => a.explanation)
      .sort((a, b) => b.weight - a.weight)
      .slice(0, 5),
    eventIds: rest.map((a) => a.eventId),
  };
}

export class RecommendationEngine {
  readonly #d: EngineDeps;
  /** Dedup keys known to exist (skips the exists() query for repeats). */
  readonly #known = new Set<string>();
  /** Patterns already listed in a flood summary (`summaryKey|patternKey`). */
  readonly #grouped = new Set<string>();
  readonly #pending = new Set<Promise<void>>();
  readonly #reopened = new Map<ReopenReason, number>(REOPEN_REASONS.map((r) => [r, 0]));

  constructor(deps: EngineDeps) {
    checkScoreMargin(deps.options.reopenScoreMargin);
    this.#d = deps;
  }

  /** Recommendations raised past a rejection since start, by the first reason that held. */
  reopened(): Record<ReopenReason, number> {
    return Object.fromEntries(this.#reopened) as Record<ReopenReason, number>;
  }

  /** RecommendationIntake: returns how many recommendations were created or updated. */
  async onScored(scored: readonly ScoredReading[]): Promise<number> {
    const byEquipment = new Map<string, ScoredReading[]>();
    for (const s of scored) {
      if (!s.isAnomaly) continue;
      const id = s.reading.tag.equipmentId;
      const list = byEquipment.get(id);
      if (list === undefined) byEquipment.set(id, [s]);
      else list.push(s);
    }
    let changed = 0;
    for (const [equipmentId, anomalies] of byEquipment) {
      if (await this.#handle(equipmentId, anomalies)) changed++;
    }
    return changed;
  }

  async #handle(equipmentId: string, anomalies: readonly ScoredReading[]): Promise<boolean> {
    const d = this.#d;
    const eq = d.equipment.equipment.get(equipmentId);
    if (eq === undefined) return false;
    if (isSuppressingMode(d.modes().get(equipmentId))) {
      d.discipline.recordSuppressed('mode');
      return false;
    }
    const chosen = choosePlaybook(eq, anomalies, d.liveSetpoints);
    if (chosen === undefined) return false;
    const pb = d.confidence
      ? { ...chosen, confidence: d.confidence(equipmentId, chosen.issueType, chosen.confidence) }
      : chosen;
    if (pb.confidence < d.options.minConfidence) {
      d.discipline.recordSuppressed('below_confidence');
      if (d.logger.isLevelEnabled('debug'))
        d.logger.debug(
          { equipmentId, issueType: pb.issueType, confidence: pb.confidence },
          'below minConfidence',
        );
      return false;
    }
    const now = d.clock.now();
    if (findShelf(d.shelves(), equipmentId, pb.issueType, now) !== undefined) {
      d.discipline.recordSuppressed('shelved');
      return false;
    }
    const baseKey = dedupKey(equipmentId, pb.issueType, pb.anomalyTsMs, d.options.dedupWindowMinutes);
    let key = baseKey;
    let reopen: Reopen | undefined;
    let batch: PlaybookResult = pb;
    let rec: NewRecommendation;
    let out: UpsertOutcome;
    // Follows the key's rows while they are rejected and the batch looks different from what the
    // operator rejected: `<key>`, `<key>|reopen:1`, `<key>|reopen:2`, … (finite: one per stored row).
    for (let n = 1; ; n++) {
      rec = await this.#admitted(key, eq.area, equipmentId, batch, now, reopen);
      out = await d.store.upsert(rec);
      if (rec.dedupKey === key) this.#remember(key);
      if (out.outcome !== 'held') break;
      if (n === 1) {
        // Only events no row of the chain has recorded yet count (a replay may group them anew).
        const rest = await this.#unrecorded(baseKey, equipmentId, anomalies);
        if (rest.length === 0) return false;
        if (rest.length < pb.eventIds.length) batch = restOf(pb, rest);
      }
      const look = {
        severity: batch.severity,
        score: batch.anomalyScore,
        topTag: batch.explanation[0]?.tagPath,
      };
      const verdict = judgeReopen(out.rejected, look, d.options.reopenScoreMargin);
      // At most CHAIN_LOOKUP reopenings per window: past that the last rejected row takes them.
      if (!verdict.reopen || n > CHAIN_LOOKUP) {
        // Looks like what was rejected: the rejection holds it back (recorded, not shown again).
        rec = { ...this.#toNew(key, eq.area, equipmentId, batch, now), intoRejected: true };
        out = await d.store.upsert(rec);
        break;
      }
      reopen = { fromId: out.rejected.id, reason: verdict.text, kind: verdict.reasons[0] as ReopenReason };
      key = reopenKey(baseKey, n);
    }
    if (out.outcome === 'unchanged' || out.outcome === 'held') return false;
    d.publish(out.change);
    if (out.outcome === 'inserted') {
      // A reopening the flood grouped into the area's summary is counted as grouped, not here.
      const reopened = rec.reopen === undefined ? undefined : reopen;
      if (reopened) this.#reopened.set(reopened.kind, (this.#reopened.get(reopened.kind) ?? 0) + 1);
      d.logger.info(
        {
          recommendationId: out.recommendation.id,
          equipmentId,
          issueType: rec.issueType,
          confidence: rec.confidence,
          ...(reopened ? { reopenedFrom: reopened.fromId, reason: reopened.reason } : {}),
        },
        reopened ? 'recommendation reopened past a rejection' : 'recommendation created',
      );
      if (d.advisor !== undefined && rec.issueType !== 'flood_summary')
        this.#enrich(out.recommendation.id, eq.kind, pb, anomalies);
    }
    return true;
  }

  /** The anomalies of the batch that no row of the key's chain (base and reopenings) has recorded. */
  async #unrecorded(
    baseKey: string,
    equipmentId: string,
    anomalies: readonly ScoredReading[],
  ): Promise<ScoredReading[]> {
    const real = anomalies.filter((a) => a.isAnomaly && a.reading.tag.equipmentId === equipmentId);
    const keys = [baseKey, ...Array.from({ length: CHAIN_LOOKUP }, (_, i) => reopenKey(baseKey, i + 1))];
    const known = new Set(
      await this.#d.store.recordedEventIds(
        keys,
        real.map((a) => a.eventId),
      ),
    );
    return real.filter((a) => !known.has(a.eventId));
  }

  /** The row for `key`; a key not stored yet must pass flood control, else it is grouped. */
  async #admitted(
    key: string,
    area: string,
    equipmentId: string,
    pb: PlaybookResult,
    now: number,
    reopen: Reopen | undefined,
  ): Promise<NewRecommendation> {
    const d = this.#d;
    const base = this.#toNew(key, area, equipmentId, pb, now);
    const rec = reopen ? { ...base, reopen: { fromId: reopen.fromId, reason: reopen.reason } } : base;
    if (this.#known.has(key) || (await d.store.exists(key))) return rec;
    if (!d.discipline.admit(area, now)) return this.#floodSummary(area, key, equipmentId, pb, now);
    if (d.discipline.recordRaised(`${equipmentId}|${pb.issueType}`, now)) {
      d.logger.warn({ equipmentId, issueType: pb.issueType }, 'chattering recommendation pattern');
    }
    return rec;
  }

  #toNew(
    key: string,
    area: string,
    equipmentId: string,
    pb: PlaybookResult,
    nowMs: number,
  ): NewRecommendation {
    return {
      id: recommendationIdFor(key),
      dedupKey: key,
      equipmentId,
      area,
      issueType: pb.issueType,
      severity: pb.severity,
      anomalyScore: pb.anomalyScore,
      confidence: pb.confidence,
      text: pb.text,
      explanation: pb.explanation,
      proposedAction: pb.proposedAction,
      anomalyAtMs: pb.anomalyTsMs,
      eventIds: pb.eventIds,
      groupedItems: [],
      nowMs,
    };
  }

  #floodSummary(
    area: string,
    key: string,
    equipmentId: string,
    pb: PlaybookResult,
    nowMs: number,
  ): NewRecommendation {
    const summaryKey = floodSummaryKey(area, nowMs);
    const first = !this.#grouped.has(`${summaryKey}|${key}`);
    this.#grouped.add(`${summaryKey}|${key}`);
    const limit = this.#d.options.maxRecommendationsPer10Min;
    return {
      ...this.#toNew(summaryKey, area, `area:${area}`, pb, nowMs),
      issueType: 'flood_summary',
      proposedAction: null,
      // A rejected summary keeps grouping the window's flood (reopening is per equipment x issue).
      intoRejected: true,
      text: `Alarm flood in area ${area}: more than ${limit} new recommendations within 10 minutes. Further ones are grouped here instead of shown one by one; review the grouped list.`,
      groupedItems: first
        ? [
            {
              equipmentId,
              issueType: pb.issueType,
              confidence: pb.confidence,
              text: pb.text,
              at: new Date(nowMs).toISOString(),
            },
          ]
        : [],
    };
  }

  #remember(key: string): void {
    if (this.#known.size >= KNOWN_KEYS_MAX) this.#known.clear();
    this.#known.add(key);
  }

  #enrich(id: string, kind: string, pb: PlaybookResult, anomalies: readonly ScoredReading[]): void {
    const d = this.#d;
    const run = (async () => {
      const equipmentId = anomalies[0]?.reading.tag.equipmentId ?? '';
      const notes = await d.store.similarNotes(equipmentId, pb.issueType, 5);
      const text = await (d.advisor as Advisor).advise({
        equipmentId,
        equipmentKind: kind,
        issueType: pb.issueType,
        playbookText: pb.text,
        explanation: pb.explanation,
        recentReadings: anomalies.slice(-20).map((a) => ({
          tagPath: a.reading.tag.tagPath,
          sensorType: a.reading.tag.sensorType,
          value: a.reading.value,
          at: new Date(a.reading.sourceTimestampMs).toISOString(),
          score: a.score,
        })),
        operatorNotes: notes,
      });
      if (text === undefined) return;
      const done = await d.store.transition(id, d.clock.now(), (cur) => ({
        toStatus: cur.status,
        bumpVersion: false,
        text: `${pb.text}\nAdvisor: ${text}`,
        audit: {
          action: 'enriched',
          actor: 'advisor',
          actorRoles: [],
          note: null,
          before: { text: cur.text },
          after: { text },
        },
      }));
      d.publish(done.change);
    })().catch((err: unknown) => {
      // The playbook text stands; the advisor counts its own failures.
      d.logger.warn({ err, recommendationId: id }, 'recommendation enrichment not stored');
    });
    this.#pending.add(run);
    void run.finally(() => this.#pending.delete(run));
  }

  /** Resolves when every enrichment started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}
