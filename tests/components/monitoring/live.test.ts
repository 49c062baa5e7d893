// A live check of the generated Prometheus config: a real Prometheus (Debian's `prometheus`) on
// loopback, from the config the set-up installs with every target rewritten to loopback, scrapes a
// real node-exporter (Debian's `prometheus-node-exporter`) whose textfile directory holds the
// throughput probe's and the backups' metrics; the public VM's routed targets go through a stand-in
// of the proxy's trusted-only route that strips the path prefix as Traefik does. The test then asks
// Prometheus's HTTP API for `up`, the throughput metric and the loaded rules.

import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { ALERT_RULES, renderAlertRules } from "../../../components/monitoring/alerts";
import { NODE_EXPORTER_METRICS } from "../../../components/monitoring/metrics";
import { renderPrometheusConfig } from "../../../components/monitoring/configFiles";
import { validator } from "../../helpers/sandbox";
import { backupTextfile, monitoringServer, probeTextfile } from "./fixtures";

const prometheus = validator("prometheus");
const nodeExporter = validator("prometheus-node-exporter");
const live = prometheus && nodeExporter ? describe : describe.skip;

jest.setTimeout(90_000);

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
        srv.on("error", reject);
    });
}

async function get(url: string): Promise<{ status: number; body: string }> {
    const res = await fetch(url);
    return { status: res.status, body: await res.text() };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 45): Promise<T> {
    const end = Date.now() + seconds * 1000;
    for (;;) {
        const got = await probe().catch(() => undefined);
        if (got !== undefined) return got;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 500));
    }
}

type StaticConfig = { targets: string[]; labels: Record<string, string> };
type Job = { job_name: string; static_configs: StaticConfig[] };

/** The installed config with each target on loopback: node-exporters to the real one, routes to the stand-in, the rest nowhere. */
export function rewriteToLoopback(config: string, ports: { node: number; route: number; closed: number }): string {
    const doc = parse(config) as { global: Record<string, string>; scrape_configs: Job[] };
    doc.global["scrape_interval"] = "1s";
    doc.global["evaluation_interval"] = "1s";
    for (const job of doc.scrape_configs) {
        for (const sc of job.static_configs) {
            const routed = sc.labels["__metrics_path__"] !== undefined;
            const port = job.job_name !== "node" ? ports.closed : routed ? ports.route : ports.node;
            sc.targets = sc.targets.map(() => `127.0.0.1:${port}`);
        }
    }
    return stringify(doc);
}

live("a real Prometheus on the generated config", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-live-"));
    const children: ChildProcess[] = [];
    let route: http.Server | undefined;
    let api = "";
    const now = Math.floor(Date.now() / 1000);

    beforeAll(async () => {
        const textfiles = path.join(dir, "textfile");
        fs.mkdirSync(textfiles);
        fs.writeFileSync(path.join(textfiles, "aidualstack_throughput.prom"), probeTextfile(now));
        fs.writeFileSync(path.join(textfiles, "aidualstack_backup.prom"), backupTextfile(now));
        const [nodePort, routePort, closedPort, promPort] = [
            await freePort(),
            await freePort(),
            await freePort(),
            await freePort(),
        ];
        children.push(
            spawn(
                nodeExporter as string,
                [`--web.listen-address=127.0.0.1:${nodePort}`, `--collector.textfile.directory=${textfiles}`],
                {
                    stdio: "ignore",
                },
            ),
        );
        // The proxy's trusted-only route: loopback is the trusted source here; the prefix is stripped.
        route = http.createServer((req, res) => {
            const m = /^\/metrics\/node(\/.*)$/.exec(req.url ?? "");
            if (req.socket.remoteAddress !== "127.0.0.1" || !m) return void res.writeHead(403).end();
            http.get({ host: "127.0.0.1", port: nodePort, path: m[1] }, (up) => {
                res.writeHead(up.statusCode ?? 502, up.headers);
                up.pipe(res);
            }).on("error", () => res.writeHead(502).end());
        });
        await new Promise<void>((r) => route?.listen(routePort, "127.0.0.1", r));
        const rules = path.join(dir, "rules.yml");
        fs.writeFileSync(rules, renderAlertRules());
        const config = renderPrometheusConfig(monitoringServer(), {
            ruleFiles: [rules],
            alertmanager: `127.0.0.1:${closedPort}`,
        });
        fs.writeFileSync(
            path.join(dir, "prometheus.yml"),
            rewriteToLoopback(config, { node: nodePort, route: routePort, closed: closedPort }),
        );
        children.push(
            spawn(
                prometheus as string,
                [
                    `--config.file=${path.join(dir, "prometheus.yml")}`,
                    `--storage.tsdb.path=${path.join(dir, "data")}`,
                    `--web.listen-address=127.0.0.1:${promPort}`,
                ],
                { stdio: "ignore" },
            ),
        );
        api = `http://127.0.0.1:${promPort}/api/v1`;
        await until("Prometheus to answer", async () =>
            (await get(`${api}/status/buildinfo`)).status === 200 ? true : undefined,
        );
    });

    afterAll(async () => {
        for (const c of children) c.kill("SIGTERM");
        await new Promise<void>((r) => (route ? route.close(() => r()) : r()));
    });

    async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
        const { body } = await get(`${api}/query?query=${encodeURIComponent(q)}`);
        return (JSON.parse(body) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } })
            .data.result;
    }

    test("every node-exporter target is up, direct and through the route; the exporters that do not run here are down", async () => {
        const expected = monitoringServer().targets;
        const up = await until("every target scraped", async () => {
            const r = await query("up");
            return r.length === expected.length + 3 &&
                r.filter((s) => s.metric["job"] === "node").every((s) => s.value[1] === "1")
                ? r
                : undefined;
        });
        const byKey = (job: string, guest: string) =>
            up.find((s) => s.metric["job"] === job && s.metric["guest"] === guest);
        for (const t of expected) {
            const s = byKey(t.job, t.labels.guest);
            expect(s?.metric).toMatchObject({
                environment: t.labels.environment,
                guest: t.labels.guest,
                guest_type: t.labels.guest_type,
                ...(t.labels.gpu ? { gpu: t.labels.gpu } : {}),
            });
            expect(s?.value[1]).toBe(t.job === "node" ? "1" : "0");
        }
        expect(byKey("node", "public-ai")?.value[1]).toBe("1");
    });

    test("the throughput metric and the backups' metrics arrive through node-exporter's textfile collector", async () => {
        const tps = await until("the throughput metric", async () => {
            const r = await query('aidualstack_model_tokens_per_second{guest="private-ai"}');
            return r.length > 0 ? r : undefined;
        });
        expect(tps).toHaveLength(1);
        expect(tps[0]?.metric).toMatchObject({
            model: "qwen2.5:14b",
            vm: "private-ai",
            environment: "private",
            job: "node",
        });
        expect(Number(tps[0]?.value[1])).toBe(142.5);
        const threshold = await query('aidualstack_model_min_tokens_per_second{guest="private-ai"}');
        expect(Number(threshold[0]?.value[1])).toBe(50);
        const ok = await query('aidualstack_backup_last_run_success{guest="private-backup"}');
        expect(ok[0]?.metric).toMatchObject({ backup: "pg-openwebui", kind: "pg_dump" });
    });

    test("the rules load, and node-exporter provides every node metric the rules and dashboards use", async () => {
        const { body } = await get(`${api}/rules`);
        const groups = (JSON.parse(body) as { data: { groups: { rules: { name: string }[] }[] } }).data.groups;
        expect(groups.flatMap((g) => g.rules.map((r) => r.name)).sort()).toEqual(
            ALERT_RULES.map((r) => r.alert).sort(),
        );
        for (const name of NODE_EXPORTER_METRICS) {
            const r = await until(name, async () => {
                const got = await query(`count(${name}{guest="private-postgres"})`);
                return got.length > 0 ? got : undefined;
            });
            expect(Number(r[0]?.value[1])).toBeGreaterThan(0);
        }
    });
});
