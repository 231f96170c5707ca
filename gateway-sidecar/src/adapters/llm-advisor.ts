/**
 * Advisor over an OpenAI-compatible chat-completions endpoint (Databricks serving endpoints, vLLM,
 * Ollama, OpenAI): `POST {url}/chat/completions` with the model and a Bearer key. Strict timeout
 * (AbortSignal covers connect, headers and body), a result cache (the seed's 5-minute Genie cache),
 * and on any failure `undefined`, so the playbook text stands. Failures are counted by kind.
 */
import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { Advisor, AdvisorContext, Clock } from '../ports.ts';

export interface LlmAdvisorOptions {
  /** Base URL, e.g. `https://<workspace>/serving-endpoints` or `http://127.0.0.1:11434/v1`. */
  readonly url: string;
  readonly model: string;
  readonly apiKey?: string | undefined;
  readonly timeoutMs: number;
  readonly cacheTtlSec: number;
  /** Longest advice kept, in characters (the HMI shows it in a card). */
  readonly maxChars?: number;
}

export type LlmFailure = 'timeout' | 'network' | 'http_status' | 'bad_response';

export interface LlmStats {
  readonly requests: number;
  readonly cacheHits: number;
  readonly successes: number;
  readonly failures: Readonly<Record<LlmFailure, number>>;
}

const completionSchema = z
  .object({
    choices: z
      .array(
        z
          .object({ message: z.object({ content: z.string().nullable().optional() }).passthrough() })
          .passthrough(),
      )
      .min(1),
  })
  .passthrough();

/** The advice text in a chat-completions response body, or undefined when there is none. */
export function parseCompletion(body: unknown, maxChars = 1_000): string | undefined {
  const parsed = completionSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const text = parsed.data.choices[0]?.message.content?.trim();
  if (text === undefined || text === '') return undefined;
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

const SYSTEM_PROMPT =
  'You advise control-room operators of an industrial plant. Given an anomaly, the rule-based recommendation, ' +
  'recent sensor readings and notes operators wrote on similar past recommendations, answer in at most three short ' +
  'sentences: the most likely cause and what to check first. Do not propose setpoint values; the proposed action stands.';

function userPrompt(c: AdvisorContext): string {
  const readings = c.recentReadings
    .map((r) => `${r.at} ${r.tagPath} (${r.sensorType}) = ${r.value} score ${r.score.toFixed(2)}`)
    .join('\n');
  const why = c.explanation
    .map((e) => `${e.sensorType}.${e.feature} = ${e.value} (weight ${e.weight.toFixed(2)})`)
    .join('\n');
  const notes = c.operatorNotes.length === 0 ? '(none)' : c.operatorNotes.map((n) => `- ${n}`).join('\n');
  return [
    `Equipment: ${c.equipmentId} (${c.equipmentKind})`,
    `Issue: ${c.issueType}`,
    `Recommendation: ${c.playbookText}`,
    `Top contributing features:\n${why || '(none)'}`,
    `Recent readings:\n${readings || '(none)'}`,
    `Operator notes on similar past recommendations:\n${notes}`,
  ].join('\n\n');
}

export class LlmAdvisor implements Advisor {
  readonly #o: LlmAdvisorOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #endpoint: string;
  readonly #cache = new Map<string, { text: string; expiresMs: number }>();
  #requests = 0;
  #cacheHits = 0;
  #successes = 0;
  readonly #failures: Record<LlmFailure, number> = {
    timeout: 0,
    network: 0,
    http_status: 0,
    bad_response: 0,
  };

  constructor(options: LlmAdvisorOptions, clock: Clock, logger: Logger) {
    this.#o = options;
    this.#clock = clock;
    this.#log = logger.child({ component: 'llm-advisor' });
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/chat/completions`;
  }

  stats(): LlmStats {
    return {
      requests: this.#requests,
      cacheHits: this.#cacheHits,
      successes: this.#successes,
      failures: { ...this.#failures },
    };
  }

  async advise(context: AdvisorContext): Promise<string | undefined> {
    const prompt = userPrompt(context);
    // Readings change every call; the cache is keyed by what the advice is about.
    const key = `${context.equipmentId}|${context.issueType}|${context.playbookText}|${context.operatorNotes.join('|')}`;
    const now = this.#clock.now();
    const hit = this.#cache.get(key);
    if (hit !== undefined && hit.expiresMs > now) {
      this.#cacheHits++;
      return hit.text;
    }
    this.#requests++;
    const text = await this.#call(prompt);
    if (text === undefined) return undefined;
    this.#successes++;
    if (this.#cache.size > 1_000) this.#cache.clear();
    this.#cache.set(key, { text, expiresMs: now + this.#o.cacheTtlSec * 1000 });
    return text;
  }

  #fail(kind: LlmFailure, detail: Record<string, unknown>): undefined {
    this.#failures[kind]++;
    this.#log.warn({ kind, ...detail }, 'llm advice failed; playbook text stands');
    return undefined;
  }

  async #call(prompt: string): Promise<string | undefined> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (this.#o.apiKey !== undefined && this.#o.apiKey !== '')
      headers.authorization = `Bearer ${this.#o.apiKey}`;
    const body = JSON.stringify({
      model: this.#o.model,
      temperature: 0.2,
      max_tokens: 200,
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: prompt },
      ],
    });
    let res: Response;
    let json: unknown;
    try {
      res = await fetch(this.#endpoint, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        return this.#fail('http_status', { status: res.status });
      }
      const raw = await res.text();
      try {
        json = JSON.parse(raw);
      } catch {
        return this.#fail('bad_response', { problem: 'body is not JSON', bytes: raw.length });
      }
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        return this.#fail('timeout', { timeoutMs: this.#o.timeoutMs });
      return this.#fail('network', { err });
    }
    const text = parseCompletion(json, this.#o.maxChars);
    if (text === undefined) return this.#fail('bad_response', { problem: 'no choices[0].message.content' });
    return text;
  }
}
