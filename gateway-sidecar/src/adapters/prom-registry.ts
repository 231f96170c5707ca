/**
 * A small Prometheus text-format (0.0.4) registry: counters, gauges and histograms with labels.
 * Written here rather than pulling prom-client because we need only these three types and want the
 * hot path to be one Map lookup plus an add.
 */

type Labels = Readonly<Record<string, string>>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${escapeLabel(labels[k] as string)}"`).join(',');
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

interface Metric {
  readonly name: string;
  render(): string;
}

export class Counter implements Metric {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels?: Labels, by = 1): void {
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  get(labels?: Labels): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  total(): number {
    let sum = 0;
    for (const v of this.#values.values()) sum += v;
    return sum;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.#values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.#values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${fmt(v)}`);
    return lines.join('\n');
  }
}

export class Gauge implements Metric {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    /** Read at scrape time (for values owned elsewhere, e.g. the spool depth). */
    readonly collect?: () => number,
  ) {}
  set(value: number, labels?: Labels): void {
    this.#values.set(labelKey(labels), value);
  }
  add(delta: number, labels?: Labels): void {
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + delta);
  }
  get(labels?: Labels): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    if (this.collect) lines.push(`${this.name} ${fmt(this.collect())}`);
    else {
      if (this.#values.size === 0) lines.push(`${this.name} 0`);
      for (const [k, v] of this.#values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${fmt(v)}`);
    }
    return lines.join('\n');
  }
}

interface HistogramSeries {
  readonly counts: number[];
  sum: number;
  count: number;
}

export class Histogram implements Metric {
  readonly #series = new Map<string, HistogramSeries>();
  readonly #buckets: readonly number[];
  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    this.#buckets = [...buckets].sort((a, b) => a - b);
  }
  observe(value: number, labels?: Labels): void {
    if (!Number.isFinite(value)) return;
    const key = labelKey(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { counts: new Array<number>(this.#buckets.length).fill(0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    s.sum += value;
    s.count++;
    for (let i = 0; i < this.#buckets.length; i++) {
      if (value <= (this.#buckets[i] as number)) {
        s.counts[i] = (s.counts[i] as number) + 1;
        break;
      }
    }
  }
  count(labels?: Labels): number {
    return this.#series.get(labelKey(labels))?.count ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    const series =
      this.#series.size === 0
        ? new Map([['', { counts: this.#buckets.map(() => 0), sum: 0, count: 0 }]])
        : this.#series;
    for (const [k, s] of series) {
      let cumulative = 0;
      const sep = k ? `${k},` : '';
      this.#buckets.forEach((b, i) => {
        cumulative += s.counts[i] as number;
        lines.push(`${this.name}_bucket{${sep}le="${fmt(b)}"} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${fmt(s.sum)}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return lines.join('\n');
  }
}

export class Registry {
  readonly #metrics: Metric[] = [];
  register<T extends Metric>(metric: T): T {
    if (this.#metrics.some((m) => m.name === metric.name))
      throw new Error(`metric '${metric.name}' registered twice`);
    this.#metrics.push(metric);
    return metric;
  }
  render(): string {
    return this.#metrics.map((m) => m.render()).join('\n') + '\n';
  }
}
