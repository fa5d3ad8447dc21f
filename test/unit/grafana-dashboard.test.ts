// Offline checks of deploy/optional/grafana-dashboard.json (no Grafana, no Prometheus here): it is an importable
// classic dashboard with a templated Prometheus datasource, its panels tile the grid, and every PromQL query is
// lexed far enough to find its metric selectors, label matchers, groupings and functions, which must name metrics
// a live ServiceMetrics registry exports, with labels those metrics carry and label values the server uses (error
// codes from the registry, stages, methods, gRPC statuses). Each onesam_* metric has at least one panel.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { status as grpcStatus } from '@grpc/grpc-js';
import { ERROR_REGISTRY } from '../../src/errors/registry.ts';
import { ServiceMetrics, STAGES } from '../../src/observability/metrics.ts';
import { loadSegmentationProto, SEGMENTATION_SERVICE } from '../../src/protocol/proto.ts';

const DASHBOARD_PATH = new URL('../../deploy/optional/grafana-dashboard.json', import.meta.url);
/** Dashboard JSON is free-form: the checks below are its type checks. */
type Any = any;

// ------------------------------------------------------------------------------------------ what the server exports

interface Family {
  readonly type: string;
  readonly labels: ReadonlySet<string>;
}

/** Metric families of a live registry, default process metrics included (the dashboard charts RSS and the loop). */
function exportedFamilies(): Map<string, Family> {
  const metrics = new ServiceMetrics({ defaultMetrics: true });
  const families = new Map<string, Family>();
  for (const m of metrics.registry.getMetricsAsArray() as unknown as { name: string; type: string; labelNames?: string[] }[]) {
    families.set(m.name, { type: String(m.type), labels: new Set(m.labelNames ?? []) });
  }
  return families;
}

/** Labels Prometheus adds at scrape time (ServiceMonitor / kubernetes_sd), valid on every series. */
const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'service', 'container', 'endpoint']);

/** Known values of some labels: a matcher on them must name values that exist. */
function knownLabelValues(): Map<string, ReadonlySet<string>> {
  const service = loadSegmentationProto().definition[SEGMENTATION_SERVICE] as Record<string, unknown>;
  return new Map<string, ReadonlySet<string>>([
    ['code', new Set(Object.keys(ERROR_REGISTRY))],
    ['stage', new Set<string>(STAGES)],
    ['method', new Set(Object.keys(service))],
    ['status', new Set(Object.keys(grpcStatus).filter((k) => Number.isNaN(Number(k))))],
  ]);
}

// --------------------------------------------------------------------------------------------------- PromQL, lexed

type Token = { kind: 'ident' | 'string' | 'number' | 'var' | 'range' | 'op'; text: string };

function lex(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const rest = expr.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^\s+/.exec(rest))) {
      i += m[0].length;
    } else if ((m = /^"(?:[^"\\]|\\.)*"|^'(?:[^'\\]|\\.)*'|^`[^`]*`/.exec(rest))) {
      tokens.push({ kind: 'string', text: m[0].slice(1, -1) });
      i += m[0].length;
    } else if ((m = /^\[[^\]]*\]/.exec(rest))) {
      tokens.push({ kind: 'range', text: m[0] });
      i += m[0].length;
    } else if ((m = /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/.exec(rest))) {
      tokens.push({ kind: 'var', text: m[0].replace(/[${}]/g, '') });
      i += m[0].length;
    } else if ((m = /^[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?/i.exec(rest))) {
      tokens.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else if ((m = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(rest))) {
      tokens.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    } else if ((m = /^(?:=~|!~|!=|==|>=|<=|[-+*/%^(){},=<>])/.exec(rest))) {
      tokens.push({ kind: 'op', text: m[0] });
      i += m[0].length;
    } else {
      throw new Error(`cannot lex "${rest.slice(0, 20)}"`);
    }
  }
  return tokens;
}

const AGGREGATIONS = new Set(['sum', 'avg', 'min', 'max', 'count', 'topk', 'bottomk', 'quantile', 'stddev', 'stdvar', 'group', 'count_values']);
const FUNCTIONS = new Set([
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'histogram_quantile', 'clamp_min', 'clamp_max', 'abs', 'sort', 'sort_desc',
  'avg_over_time', 'max_over_time', 'min_over_time', 'sum_over_time', 'quantile_over_time', 'last_over_time', 'time', 'vector', 'scalar',
  'label_replace', 'round', 'ceil', 'floor', 'absent', 'changes', 'resets', 'predict_linear',
]);
const COUNTER_FUNCTIONS = new Set(['rate', 'irate', 'increase', 'resets']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const BINARY_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset']);

interface Selector {
  readonly metric: string;
  readonly matchers: { label: string; op: string; value: string }[];
  /** The innermost function or aggregation the selector is an argument of. */
  readonly within: string | undefined;
  /** Every call the selector is nested in, innermost last. */
  readonly calls: readonly string[];
}

interface Analysis {
  readonly selectors: Selector[];
  readonly groupings: { keyword: string; labels: string[]; calls: readonly string[] }[];
  readonly variables: string[];
}

/** Walks the tokens with a stack of open parentheses; throws on anything it does not understand. */
function analyse(expr: string): Analysis {
  const tokens = lex(expr);
  const selectors: Selector[] = [];
  const groupings: Analysis['groupings'] = [];
  const variables: string[] = [];
  const stack: { kind: 'call' | 'paren' | 'grouping'; name: string }[] = [];
  const calls = (): string[] => stack.filter((s) => s.kind === 'call').map((s) => s.name);
  let pendingCall: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    if (t.kind === 'var') {
      variables.push(t.text);
      continue;
    }
    if (t.kind === 'op' && t.text === '(') {
      const prev = tokens[i - 1];
      if (prev?.kind === 'ident' && GROUPING.has(prev.text)) stack.push({ kind: 'grouping', name: prev.text });
      else if (pendingCall) stack.push({ kind: 'call', name: pendingCall });
      else stack.push({ kind: 'paren', name: '' });
      pendingCall = undefined;
      continue;
    }
    if (t.kind === 'op' && t.text === ')') {
      if (!stack.pop()) throw new Error('unbalanced ")"');
      continue;
    }
    if (t.kind === 'op' && (t.text === '{' || t.text === '}')) throw new Error(`"${t.text}" outside a selector`);
    if (t.kind !== 'ident') continue;
    const top = stack.at(-1);
    if (top?.kind === 'grouping') {
      // Collected with the grouping keyword below.
      continue;
    }
    if (GROUPING.has(t.text)) {
      if (next?.text !== '(') throw new Error(`"${t.text}" without a label list`);
      const labels: string[] = [];
      let j = i + 2;
      for (; j < tokens.length && tokens[j]!.text !== ')'; j++) if (tokens[j]!.kind === 'ident') labels.push(tokens[j]!.text);
      groupings.push({ keyword: t.text, labels, calls: [...calls(), ...(pendingCall ? [pendingCall] : [])] });
      continue;
    }
    if (BINARY_KEYWORDS.has(t.text)) continue;
    if (AGGREGATIONS.has(t.text) || FUNCTIONS.has(t.text)) {
      if (next?.text !== '(' && !(AGGREGATIONS.has(t.text) && next && GROUPING.has(next.text))) throw new Error(`${t.text} is not called`);
      pendingCall = t.text;
      continue;
    }
    if (next?.text === '(') throw new Error(`unknown function ${t.text}`);
    // A metric name, with or without a {…} selector.
    const matchers: Selector['matchers'] = [];
    if (next?.text === '{') {
      let j = i + 2;
      while (tokens[j]?.text !== '}') {
        const label = tokens[j];
        const op = tokens[j + 1];
        const value = tokens[j + 2];
        if (label?.kind !== 'ident' || op?.kind !== 'op' || !['=', '!=', '=~', '!~'].includes(op.text) || value?.kind !== 'string') {
          throw new Error(`bad label matcher in the selector of ${t.text}`);
        }
        matchers.push({ label: label.text, op: op.text, value: value.text });
        for (const v of value.text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)) variables.push(v[1]!);
        j += 3;
        if (tokens[j]?.text === ',') j++;
        else if (tokens[j]?.text !== '}') throw new Error(`unterminated selector of ${t.text}`);
      }
      i = j;
    }
    const c = calls();
    selectors.push({ metric: t.text, matchers, within: c.at(-1), calls: c });
  }
  if (stack.length > 0) throw new Error('unbalanced "("');
  return { selectors, groupings, variables };
}

// ------------------------------------------------------------------------------------------------ the dashboard

interface Query {
  readonly where: string;
  readonly expr: string;
  readonly legend?: string;
}

function dashboardQueries(dashboard: Any): Query[] {
  const queries: Query[] = [];
  for (const panel of dashboard.panels ?? []) {
    for (const target of panel.targets ?? []) {
      queries.push({ where: `panel ${panel.id} "${panel.title}" ${target.refId}`, expr: String(target.expr ?? ''), legend: target.legendFormat });
    }
  }
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const text = typeof v.query === 'string' ? v.query : v.query?.query;
    const m = /^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(String(text));
    assert.ok(m, `variable ${v.name}: only label_values(selector, label) queries are checked, got ${text}`);
    queries.push({ where: `variable ${v.name}`, expr: m[1]!, legend: `{{${m[2]}}}` });
  }
  return queries;
}

/** Resolves a series name to its family: exact, histogram _bucket/_sum/_count, or an OpenMetrics-style _total. */
function resolve(name: string, families: Map<string, Family>): { family: Family; part: string } | undefined {
  const exact = families.get(name);
  if (exact) return { family: exact, part: '' };
  for (const part of ['_bucket', '_sum', '_count']) {
    const base = families.get(name.slice(0, -part.length));
    if (name.endsWith(part) && base?.type === 'histogram') return { family: base, part };
  }
  const counter = families.get(name.replace(/_total$/, ''));
  if (name.endsWith('_total') && counter?.type === 'counter') return { family: counter, part: '' };
  return undefined;
}

const GRAFANA_VARIABLES = new Set(['__rate_interval', '__interval', '__range', '__range_s', '__interval_ms', '__auto']);

/** Every problem found in the dashboard, as readable sentences (empty: all good). */
function checkDashboard(dashboard: Any, families: Map<string, Family>): string[] {
  const problems: string[] = [];
  const values = knownLabelValues();
  const variables = new Set<string>((dashboard.templating?.list ?? []).map((v: Any) => v.name));
  const used = new Set<string>();

  // Importable anywhere: no instance id, a Prometheus datasource variable, no datasource UID of someone's Grafana.
  if (dashboard.id !== null && dashboard.id !== undefined) problems.push('the dashboard has an id (an instance id; importing wants null)');
  if (!(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= 41)) problems.push(`schemaVersion ${dashboard.schemaVersion} is older than 41`);
  const dsVar = (dashboard.templating?.list ?? []).find((v: Any) => v.type === 'datasource');
  if (dsVar?.name !== 'datasource' || dsVar?.query !== 'prometheus') problems.push('no "datasource" variable of type prometheus');
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}[${i}]`));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'datasource' && v && typeof v === 'object') {
          const ds = v as { type?: string; uid?: string };
          const builtIn = ds.type === 'grafana' && ds.uid === '-- Grafana --';
          if (!builtIn && !(ds.type === 'prometheus' && ds.uid === '${datasource}')) problems.push(`${path}.datasource is ${JSON.stringify(v)}, not the \${datasource} variable`);
        } else if (k === 'datasource' && typeof v === 'string') {
          problems.push(`${path}.datasource is the string ${JSON.stringify(v)} (a name or UID of one Grafana)`);
        }
        walk(v, `${path}.${k}`);
      }
    }
  };
  walk(dashboard.panels, 'panels');
  walk(dashboard.templating, 'templating');

  // Panels: unique ids, sane grid positions, no overlaps, at least one query each (rows excepted).
  const ids = new Set<number>();
  const boxes: { id: number; x: number; y: number; w: number; h: number }[] = [];
  for (const panel of dashboard.panels ?? []) {
    const label = `panel ${panel.id} "${panel.title}"`;
    if (!Number.isInteger(panel.id) || panel.id <= 0) problems.push(`${label}: id must be a positive integer`);
    if (ids.has(panel.id)) problems.push(`${label}: duplicate id`);
    ids.add(panel.id);
    if (!panel.title) problems.push(`${label}: no title`);
    const g = panel.gridPos ?? {};
    const { x, y, w, h } = g;
    if (![x, y, w, h].every((n) => Number.isInteger(n)) || x < 0 || y < 0 || w < 1 || h < 1 || x + w > 24) {
      problems.push(`${label}: gridPos ${JSON.stringify(g)} is outside the 24-column grid`);
      continue;
    }
    if (panel.type === 'row') {
      if (x !== 0 || w !== 24 || h !== 1) problems.push(`${label}: a row must span the grid (x 0, w 24, h 1)`);
      if (panel.collapsed === false && (panel.panels ?? []).length > 0) problems.push(`${label}: an open row keeps its panels at the top level`);
    } else {
      if (!Array.isArray(panel.targets) || panel.targets.length === 0) problems.push(`${label}: no query`);
      const refIds = (panel.targets ?? []).map((t: Any) => t.refId);
      if (new Set(refIds).size !== refIds.length) problems.push(`${label}: duplicate refId`);
    }
    for (const b of boxes) {
      if (x < b.x + b.w && b.x < x + w && y < b.y + b.h && b.y < y + h) problems.push(`${label}: overlaps panel ${b.id}`);
    }
    boxes.push({ id: panel.id, x, y, w, h });
  }

  // Queries.
  for (const { where, expr, legend } of dashboardQueries(dashboard)) {
    let analysis: Analysis;
    try {
      analysis = analyse(expr);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message} in ${expr}`);
      continue;
    }
    if (analysis.selectors.length === 0) problems.push(`${where}: queries no metric`);
    for (const v of analysis.variables) {
      if (!variables.has(v) && !GRAFANA_VARIABLES.has(v)) problems.push(`${where}: unknown variable $${v}`);
    }
    const exprLabels = new Set<string>(TARGET_LABELS);
    for (const s of analysis.selectors) {
      const resolved = resolve(s.metric, families);
      if (!resolved) {
        problems.push(`${where}: the server exports no ${s.metric}`);
        continue;
      }
      used.add(s.metric.replace(/_(bucket|sum|count)$/, (m) => (resolved.part ? '' : m)));
      const labels = new Set([...resolved.family.labels, ...TARGET_LABELS, ...(resolved.part === '_bucket' ? ['le'] : [])]);
      for (const l of labels) exprLabels.add(l);
      for (const m of s.matchers) {
        if (!labels.has(m.label)) problems.push(`${where}: ${s.metric} has no label ${m.label}`);
        const known = values.get(m.label);
        if (known && !m.value.includes('$') && (m.op === '=' || m.op === '=~')) {
          for (const v of m.op === '=~' ? m.value.split('|') : [m.value]) {
            if (!known.has(v)) problems.push(`${where}: ${m.label}="${v}" is not a value the server uses`);
          }
        }
      }
      // Counters and histogram series only make sense as rates; a gauge under rate() is a mistake.
      const cumulative = resolved.family.type === 'counter' || resolved.part !== '';
      const asRate = s.within !== undefined && COUNTER_FUNCTIONS.has(s.within);
      if (cumulative && !asRate) problems.push(`${where}: ${s.metric} is cumulative and must be inside rate() or increase()`);
      if (!cumulative && asRate) problems.push(`${where}: ${s.metric} is a gauge inside ${s.within}()`);
      if (resolved.part === '_bucket' && !s.calls.includes('histogram_quantile')) problems.push(`${where}: ${s.metric} outside histogram_quantile()`);
    }
    for (const g of analysis.groupings) {
      for (const l of g.labels) if (!exprLabels.has(l)) problems.push(`${where}: groups ${g.keyword} ${l}, a label none of its metrics has`);
    }
    if (expr.includes('histogram_quantile') && !analysis.groupings.some((g) => g.calls.includes('histogram_quantile') && g.labels.includes('le'))) {
      problems.push(`${where}: histogram_quantile() without "by (le, …)"`);
    }
    // {{label}} in a legend must survive the aggregation: a grouping label, or any label when nothing aggregates.
    const grouped = new Set(analysis.groupings.filter((g) => g.keyword === 'by').flatMap((g) => g.labels));
    const aggregates = /\b(sum|avg|min|max|count|topk|bottomk|quantile)\b/.test(expr);
    for (const m of String(legend ?? '').matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) {
      const l = m[1]!;
      if (aggregates ? !grouped.has(l) : !exprLabels.has(l)) problems.push(`${where}: legend {{${l}}} is not a label of the result`);
    }
  }

  // Coverage: every metric of the service has a panel.
  const usedFamilies = new Set([...used].map((n) => (families.has(n) ? n : resolve(n, families) ? n.replace(/_(bucket|sum|count)$/, '') : n)));
  for (const name of families.keys()) {
    if (name.startsWith('onesam_') && !usedFamilies.has(name)) problems.push(`no panel shows ${name}: add one to deploy/optional/grafana-dashboard.json`);
  }
  for (const name of ['process_resident_memory_bytes', 'process_open_fds', 'nodejs_eventloop_lag_p99_seconds']) {
    if (!usedFamilies.has(name)) problems.push(`no panel shows ${name}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------- tests

const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Any;
const families = exportedFamilies();

describe('Grafana dashboard (deploy/optional/grafana-dashboard.json)', () => {
  it('queries only metrics, labels and label values the server exports, on a templated datasource, in a tidy grid', () => {
    assert.deepEqual(checkDashboard(dashboard, families), []);
    assert.ok(dashboard.panels.filter((p: Any) => p.type !== 'row').length >= 20);
  });

  it('charts what an operator asks first: throughput, stage latency, queue vs compute, errors, sessions, memory, workers, event loop', () => {
    const exprs = dashboardQueries(dashboard).map((q) => q.expr).join('\n');
    assert.match(exprs, /sum by \(method, status\) \(rate\(onesam_request_duration_seconds_count/);
    assert.match(exprs, /sum by \(network\) \(rate\(onesam_slices_encoded_total/);
    assert.match(exprs, /histogram_quantile\(\$quantile, sum by \(le, stage\) \(rate\(onesam_stage_duration_seconds_bucket/);
    assert.match(exprs, /onesam_request_queue_seconds_bucket[\s\S]*onesam_request_compute_seconds_bucket/);
    assert.match(exprs, /sum by \(code\) \(rate\(onesam_errors_total/);
    for (const name of ['onesam_sessions{', 'process_resident_memory_bytes{', 'onesam_pool_utilisation{', 'onesam_pool_queue_depth{', 'nodejs_eventloop_lag_p99_seconds{']) {
      assert.ok(exprs.includes(name), `no query on ${name.slice(0, -1)}`);
    }
  });

  it('the check catches a misspelled metric, an unknown code, a gauge under rate(), a hard-coded datasource, a duplicate id and an overlap', () => {
    const broken = (edit: (d: Any) => void): string[] => {
      const copy = structuredClone(dashboard);
      edit(copy);
      return checkDashboard(copy, families);
    };
    const firstQuery = (d: Any): Any => d.panels.find((p: Any) => p.targets?.length).targets[0];
    const cases: [string, (d: Any) => void, RegExp][] = [
      ['misspelled metric', (d) => { firstQuery(d).expr = 'sum(rate(onesam_requests_total{job=~"$job"}[$__rate_interval]))'; }, /exports no onesam_requests_total/],
      ['unknown error code', (d) => { firstQuery(d).expr = 'sum(rate(onesam_errors_total{code="NO_SUCH_CODE"}[5m]))'; }, /code="NO_SUCH_CODE"/],
      ['unknown label', (d) => { firstQuery(d).expr = 'sum(rate(onesam_errors_total{reason="x"}[5m]))'; }, /has no label reason/],
      ['gauge under rate()', (d) => { firstQuery(d).expr = 'rate(onesam_inflight_requests[5m])'; }, /gauge inside rate/],
      ['raw counter', (d) => { firstQuery(d).expr = 'onesam_errors_total'; }, /must be inside rate/],
      ['quantile without le', (d) => { firstQuery(d).expr = 'histogram_quantile(0.9, sum by (stage) (rate(onesam_stage_duration_seconds_bucket[5m])))'; }, /without "by \(le/],
      ['unbalanced', (d) => { firstQuery(d).expr = 'sum(rate(onesam_errors_total[5m])'; }, /unbalanced/],
      ['hard-coded datasource', (d) => { d.panels[1].datasource = { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' }; }, /not the \$\{datasource\} variable/],
      ['duplicate id', (d) => { d.panels[2].id = d.panels[1].id; }, /duplicate id/],
      ['overlap', (d) => { d.panels[2].gridPos = { ...d.panels[1].gridPos }; }, /overlaps/],
      ['off the grid', (d) => { d.panels[1].gridPos = { ...d.panels[1].gridPos, x: 20, w: 8 }; }, /outside the 24-column grid/],
      ['legend label lost by sum', (d) => { firstQuery(d).legendFormat = '{{stage}}'; firstQuery(d).expr = 'sum(rate(onesam_errors_total[5m]))'; }, /legend \{\{stage\}\}/],
    ];
    for (const [name, edit, expected] of cases) {
      const problems = broken(edit);
      assert.ok(problems.some((p) => expected.test(p)), `${name}: expected a problem matching ${expected}, got ${JSON.stringify(problems)}`);
    }
  });

  it('a metric the server exports without a panel is reported', () => {
    const extra = new Map(families);
    extra.set('onesam_brand_new_total', { type: 'counter', labels: new Set() });
    assert.ok(checkDashboard(dashboard, extra).some((p) => p.includes('no panel shows onesam_brand_new_total')));
  });
});
