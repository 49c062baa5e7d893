// The dashboards and rules read only metrics that some target provides: each panel's query and each
// rule's expression, by the metric names in it, against the catalogue of the jobs the generated
// config scrapes. The catalogue itself is checked by the live test (node-exporter) and by the
// textfile tests (probe, backups, pools, Xid).

import { ALERT_RULES } from "../../../components/monitoring/alerts";
import { DASHBOARDS, dashboardJson, renderDashboards } from "../../../components/monitoring/dashboards";
import { DATASOURCE_UID } from "../../../components/monitoring/configFiles";
import { BUILTIN_METRICS, METRICS_BY_JOB, metricNames } from "../../../components/monitoring/metrics";
import { monitoringServer } from "./fixtures";

/** Every metric the generated config's targets provide. */
function provided(): Set<string> {
    const jobs = new Set(monitoringServer().targets.map((t) => t.job));
    return new Set([...BUILTIN_METRICS, ...[...jobs].flatMap((j) => METRICS_BY_JOB[j])]);
}

test("metricNames reads the metrics of a query, not its functions, labels or ranges", () => {
    expect(
        metricNames('sum by (gpu) (increase(aidualstack_gpu_xid_errors_total{xid!="0"}[24h])) / on(gpu) up{job="gpu"}'),
    ).toEqual(["aidualstack_gpu_xid_errors_total", "up"]);
    expect(metricNames("time() - aidualstack_model_probe_last_run_timestamp_seconds > 7200")).toEqual([
        "aidualstack_model_probe_last_run_timestamp_seconds",
    ]);
});

test("the dashboards cover the host, the GPUs, throughput against its threshold, ZFS, backups and the RAG ingest", () => {
    const titles = DASHBOARDS.map((d) => d.title);
    expect(titles).toEqual([
        "ai-dualstack: host and guests",
        "ai-dualstack: GPUs",
        "ai-dualstack: inference throughput",
        "ai-dualstack: ZFS",
        "ai-dualstack: backups",
        "ai-dualstack: document ingest (RAG)",
    ]);
    const exprs = (uid: string) =>
        DASHBOARDS.find((d) => d.uid === uid)?.panels.flatMap((p) => p.queries.map((q) => q.expr)) ?? [];
    const gpu = exprs("aids-gpu").flatMap(metricNames);
    for (const m of [
        "nvidia_smi_utilization_gpu_ratio",
        "nvidia_smi_memory_used_bytes",
        "nvidia_smi_temperature_gpu",
        "nvidia_smi_power_draw_watts",
    ])
        expect(gpu).toContain(m);
    const tps = exprs("aids-throughput").flatMap(metricNames);
    expect(tps).toEqual(
        expect.arrayContaining(["aidualstack_model_tokens_per_second", "aidualstack_model_min_tokens_per_second"]),
    );
    expect(exprs("aids-rag").flatMap(metricNames).sort()).toEqual([
        "aidualstack_rag_ingest_chunks",
        "aidualstack_rag_ingest_failures",
        "aidualstack_rag_ingest_files",
        "aidualstack_rag_ingest_last_success_timestamp_seconds",
    ]);
});

test("every panel of every generated dashboard file names only metrics some target provides", () => {
    const have = provided();
    const files = renderDashboards();
    expect(Object.keys(files).sort()).toEqual(DASHBOARDS.map((d) => `${d.uid}.json`).sort());
    for (const [file, text] of Object.entries(files)) {
        const dash = JSON.parse(text) as {
            uid: string;
            panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
        };
        expect(dash.panels.length).toBeGreaterThan(0);
        for (const panel of dash.panels) {
            expect(panel.datasource.uid).toBe(DATASOURCE_UID);
            expect(panel.targets.length).toBeGreaterThan(0);
            for (const t of panel.targets) {
                const names = metricNames(t.expr);
                expect(names.length).toBeGreaterThan(0);
                const missing = names.filter((n) => !have.has(n));
                expect({ file, panel: panel.title, missing }).toEqual({ file, panel: panel.title, missing: [] });
            }
        }
    }
});

test("every alert rule names only metrics some target provides", () => {
    const have = provided();
    for (const rule of ALERT_RULES) {
        const missing = metricNames(rule.expr).filter((n) => !have.has(n));
        expect({ alert: rule.alert, missing }).toEqual({ alert: rule.alert, missing: [] });
    }
});

test("panels do not overlap and ids are unique", () => {
    for (const spec of DASHBOARDS) {
        const json = dashboardJson(spec) as { panels: { id: number; gridPos: { x: number; y: number } }[] };
        const ids = json.panels.map((p) => p.id);
        expect(new Set(ids).size).toBe(ids.length);
        const cells = json.panels.map((p) => `${p.gridPos.x},${p.gridPos.y}`);
        expect(new Set(cells).size).toBe(cells.length);
    }
});
