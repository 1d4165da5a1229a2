import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dashboard } from '@grafana/schema/dist/types/index';
import { parser } from '@prometheus-io/lezer-promql';
import type { Registry } from 'prom-client';
import { parse } from 'yaml';
import { dashboardQueries } from '../../ops/grafana/dashboard';
import { DASHBOARD_FILE, dashboardJson } from '../../ops/grafana/write-dashboard';
import { createProcessorMetrics } from '../../processor/metrics';
import { createReceiverMetrics } from '../../receiver/metrics';

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

const ALERTS_FILE = join(__dirname, '../../ops/prometheus/alerts.yml');
const alertRules = (): AlertRule[] => (parse(readFileSync(ALERTS_FILE, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap((group) => group.rules);

/** The series names a registry exposes: a histogram's as its _bucket, _sum and _count. */
async function exposedNames(registry: Registry): Promise<string[]> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.flatMap(({ name, type }) => (String(type) === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]));
}

/** The metric names a PromQL expression selects, or the text of its syntax errors. */
function selectedMetrics(expr: string): { names: string[]; errors: string[] } {
  const names: string[] = [];
  const errors: string[] = [];
  // Grafana's own variables are not PromQL; a fixed window stands in for them.
  const promql = expr.replaceAll('$__rate_interval', '5m');
  parser.parse(promql).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${promql.slice(node.from, node.to + 10)}"`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') names.push(promql.slice(node.from, node.to));
    },
  });
  return { names, errors };
}

// Grafana's dashboard schema refuses what Grafana would: a compile-time check that the type is not `any`.
// @ts-expect-error schemaVersion is required
const missingSchemaVersion: Dashboard = { title: 'no schema version' };
// @ts-expect-error a panel's gridPos needs its height
const panelWithoutHeight: Dashboard = { title: 'x', schemaVersion: 39, panels: [{ type: 'timeseries', gridPos: { x: 0, y: 0, w: 1 } }] };

describe('the Grafana dashboard and the Prometheus alert rules', () => {
  let exported: Set<string>;

  beforeAll(async () => {
    exported = new Set([...(await exposedNames(createReceiverMetrics().registry)), ...(await exposedNames(createProcessorMetrics().registry))]);
  });

  it('the file Grafana imports is the typed dashboard, written by npm run dashboard', () => {
    expect(missingSchemaVersion.title).toBeDefined();
    expect(panelWithoutHeight.title).toBeDefined();
    expect(readFileSync(DASHBOARD_FILE, 'utf8')).toBe(dashboardJson());
  });

  it('every panel has a unique id and its queries', () => {
    const panels = (JSON.parse(dashboardJson()) as Dashboard).panels ?? [];
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(panels.length);
    for (const panel of panels.filter((each) => each.type !== 'row')) {
      expect((panel as { targets?: unknown[] }).targets?.length).toBeGreaterThan(0);
    }
  });

  it.each([
    ...dashboardQueries().map((expr): [string, string] => ['dashboard', expr]),
    ...alertRules().map((rule): [string, string] => [`alert ${rule.alert}`, rule.expr]),
  ])('%s: "%s" parses as PromQL and selects only metrics the services export', (_where, expr) => {
    const { names, errors } = selectedMetrics(expr);
    expect(errors).toEqual([]);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !exported.has(name))).toEqual([]);
  });

  it('a query of a metric nobody exports, or of bad PromQL, is caught', () => {
    expect(selectedMetrics('rate(webhook_requests_totl[5m])').names.filter((name) => !exported.has(name))).toEqual(['webhook_requests_totl']);
    expect(selectedMetrics('sum by (route (rate(webhook_requests_total[5m]))').errors).not.toEqual([]);
  });

  it('every alert rule has a unique name, a severity and words for the one paged', () => {
    const rules = alertRules();
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(['page', 'ticket']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toEqual(expect.any(String));
      expect(rule.annotations.description).toEqual(expect.any(String));
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining(['WebhookDeadLettersGrowing', 'WebhookProcessingBehind', 'TradeNotificationsBehind', 'WebhookReceiver5xxRate', 'WebhookReceiverNotReady']),
    );
  });
});
