/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and
 * histograms with fixed buckets, each with a fixed list of label names. Label values are
 * joined into one map key so an update is a Map lookup and an add.
 */

type Labels = readonly string[];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(names: Labels, values: readonly string[], extra = ''): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return Number.isNaN(n) ? 'NaN' : String(n);
}

const SEP = '\u0000';

interface Metric {
  render(): string;
}

abstract class Base implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: Labels,
  ) {}
  protected header(type: string): string {
    return `# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${this.name} ${type}\n`;
  }
  protected check(values: readonly string[]): void {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
  }
  abstract render(): string;
}

export class Counter extends Base {
  private readonly values = new Map<string, { labels: string[]; v: number }>();
  /** a counter kept elsewhere (process CPU time) is read when scraped */
  constructor(name: string, help: string, labelNames: Labels = [], private readonly collect?: () => number) {
    super(name, help, labelNames);
  }
  inc(labels: string[] = [], by = 1): void {
    if (by < 0) throw new Error(`${this.name}: a counter only goes up`);
    this.check(labels);
    const k = labels.join(SEP);
    const e = this.values.get(k);
    if (e) e.v += by;
    else this.values.set(k, { labels, v: by });
  }
  get(labels: string[] = []): number {
    return this.values.get(labels.join(SEP))?.v ?? 0;
  }
  render(): string {
    if (this.collect) this.values.set('', { labels: [], v: this.collect() });
    let s = this.header('counter');
    if (this.values.size === 0 && this.labelNames.length === 0) s += `${this.name} 0\n`;
    for (const { labels, v } of this.values.values()) s += `${this.name}${labelText(this.labelNames, labels)} ${num(v)}\n`;
    return s;
  }
}

export class Gauge extends Base {
  private readonly values = new Map<string, { labels: string[]; v: number }>();
  /** a gauge may be computed when scraped (RSS, CPU) instead of being set */
  constructor(name: string, help: string, labelNames: Labels = [], private readonly collect?: () => number) {
    super(name, help, labelNames);
  }
  set(v: number, labels: string[] = []): void {
    this.check(labels);
    const k = labels.join(SEP);
    const e = this.values.get(k);
    if (e) e.v = v;
    else this.values.set(k, { labels, v });
  }
  inc(labels: string[] = [], by = 1): void {
    this.set(this.get(labels) + by, labels);
  }
  dec(labels: string[] = [], by = 1): void {
    this.set(this.get(labels) - by, labels);
  }
  get(labels: string[] = []): number {
    return this.values.get(labels.join(SEP))?.v ?? 0;
  }
  render(): string {
    if (this.collect) this.set(this.collect());
    let s = this.header('gauge');
    if (this.values.size === 0 && this.labelNames.length === 0) s += `${this.name} 0\n`;
    for (const { labels, v } of this.values.values()) s += `${this.name}${labelText(this.labelNames, labels)} ${num(v)}\n`;
    return s;
  }
}

export class Histogram extends Base {
  private readonly series = new Map<string, { labels: string[]; counts: number[]; sum: number; count: number }>();
  /** upper bounds, ascending; +Inf is implied */
  readonly buckets: readonly number[];
  constructor(name: string, help: string, labelNames: Labels, buckets: readonly number[]) {
    super(name, help, labelNames);
    for (let i = 1; i < buckets.length; i++) if (!(buckets[i]! > buckets[i - 1]!)) throw new Error(`${name}: buckets must ascend`);
    this.buckets = buckets;
  }
  observe(v: number, labels: string[] = []): void {
    this.check(labels);
    const k = labels.join(SEP);
    let e = this.series.get(k);
    if (!e) {
      e = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(k, e);
    }
    // counts are per bucket here and made cumulative when rendered
    let i = 0;
    while (i < this.buckets.length && v > this.buckets[i]!) i++;
    if (i < this.buckets.length) e.counts[i]!++;
    e.sum += v;
    e.count++;
  }
  /** observations so far for these labels */
  count(labels: string[] = []): number {
    return this.series.get(labels.join(SEP))?.count ?? 0;
  }
  render(): string {
    let s = this.header('histogram');
    for (const { labels, counts, sum, count } of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += counts[i]!;
        s += `${this.name}_bucket${labelText(this.labelNames, labels, `le="${num(this.buckets[i]!)}"`)} ${acc}\n`;
      }
      s += `${this.name}_bucket${labelText(this.labelNames, labels, 'le="+Inf"')} ${count}\n`;
      s += `${this.name}_sum${labelText(this.labelNames, labels)} ${num(sum)}\n`;
      s += `${this.name}_count${labelText(this.labelNames, labels)} ${count}\n`;
    }
    return s;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  private readonly names = new Set<string>();
  private add<T extends Base>(m: T): T {
    if (this.names.has(m.name)) throw new Error(`metric ${m.name} registered twice`);
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(m.name)) throw new Error(`bad metric name ${m.name}`);
    this.names.add(m.name);
    this.metrics.push(m);
    return m;
  }
  counter(name: string, help: string, labelNames: Labels = [], collect?: () => number): Counter {
    return this.add(new Counter(name, help, labelNames, collect));
  }
  gauge(name: string, help: string, labelNames: Labels = [], collect?: () => number): Gauge {
    return this.add(new Gauge(name, help, labelNames, collect));
  }
  histogram(name: string, help: string, labelNames: Labels, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }
  /** the whole registry in Prometheus text format */
  render(): string {
    return this.metrics.map((m) => m.render()).join('');
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
