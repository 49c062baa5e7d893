// Monitoring in both stacks' graphs (mock runtime): the private stack sets up the server in its
// container with its script secret, node-exporter in every container after its data set-up, and on
// the node the exporters with a read-only PVEAuditor token; the public stack admits the monitoring
// host, as a /32 and nothing wider, to its containers' exporters and its VM's trusted-only routes.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import { parse } from "yaml";
import { ALERT_RULES } from "../../components/monitoring/alerts";
import { PlannedStack } from "../../testing/planStack";
import { one, ofType, runStack } from "../helpers/pulumi";

let priv: PlannedStack;
let pub: PlannedStack;
beforeAll(async () => {
    priv = await runStack("private");
    pub = await runStack("public");
}, 120_000);

test("the server's set-up runs over root SSH in the monitoring container, after it started and its node-exporter, script secret", () => {
    const setup = one(priv.resources, command.remote.Command, "private-monitoring-monitoring-setup");
    expect(setup.inputs["connection"]).toMatchObject({ host: "10.10.10.24", user: "root" });
    expect(setup.secretInputs).toContain("stdin");
    expect(setup.dependencies).toContain(one(priv.resources, command.remote.Command, "private-monitoring-start").urn);
    expect(setup.dependencies).toContain(
        one(priv.resources, command.remote.Command, "private-monitoring-node-exporter-setup").urn,
    );
    expect(setup.description).toBe(
        `installs and configures Prometheus ≥ 2.42.0 (30 d / 20 GiB), Alertmanager ≥ 0.25.0, Grafana 12.1.1 (6 dashboards); 16 targets, ${ALERT_RULES.length} alert rules (script held secret: it carries the Grafana password and the alert receiver)`,
    );
    const stdin = String(setup.inputs["stdin"]);
    expect(stdin).toContain("AIDS_GRAFANA_PASSWORD='offline-placeholder-grafanaAdminPassword'");
});

test("every container of both stacks gets node-exporter, after its data set-up, and a firewall rule for the monitoring host alone", () => {
    for (const plan of [priv, pub]) {
        for (const lxc of ofType(plan.resources, proxmoxve.ContainerLegacy)) {
            const setup = one(plan.resources, command.remote.Command, `${lxc.name}-node-exporter-setup`);
            expect(setup.description).toBe(
                "installs prometheus-node-exporter ≥ 1.5.0 (:9100, open to 10.10.10.24/32 only)",
            );
            const data = plan.resources.find((r) => r.name === `${lxc.name}-data-setup`);
            if (data) expect(setup.dependencies).toContain(data.urn);
            const rules = one(plan.resources, proxmoxve.firewall.RulesLegacy, `${lxc.name}-firewall-rules`);
            const exporterRules = (rules.inputs["rules"] as { dport?: string; source?: string }[]).filter(
                (r) => r.dport === "9100",
            );
            expect(exporterRules).toEqual([
                expect.objectContaining({ source: "10.10.10.24/32", action: "ACCEPT", proto: "tcp" }),
            ]);
        }
    }
    expect(ofType(pub.resources, command.remote.Command).some((c) => c.name.includes("monitoring-setup"))).toBe(false);
});

test("the public VM's trusted-only routes to exporters admit the monitoring host as a /32 beside the trusted networks; other routes do not", () => {
    const container = pub.resources.find((r) => r.name === "public-ai-workload-proxy" && r.custom);
    const uploads = (container?.inputs["uploads"] ?? []) as { content?: string }[];
    const dynamic = uploads.map((u) => u.content ?? "").find((c) => c.includes("trusted-only"));
    type Doc = {
        http: {
            middlewares: Record<string, { ipAllowList?: { sourceRange: string[] } }>;
            routers: Record<string, { middlewares: string[]; service: string }>;
        };
    };
    const doc = parse(dynamic ?? "") as Doc;
    expect(doc.http.middlewares["trusted-only"]?.ipAllowList?.sourceRange).toEqual(["192.168.1.0/24"]);
    expect(doc.http.middlewares["trusted-or-monitoring"]?.ipAllowList?.sourceRange).toEqual([
        "192.168.1.0/24",
        "10.10.10.24/32",
    ]);
    const allowOf = (service: string) =>
        Object.values(doc.http.routers)
            .filter((r) => r.service.startsWith(`${service}-`))
            .map((r) => r.middlewares[0]);
    for (const exporter of ["node-exporter", "cadvisor", "nvidia-exporter"])
        expect(allowOf(exporter)).toEqual(["trusted-or-monitoring"]);
    expect(allowOf("ollama")).toEqual(["trusted-only"]);
});

test("the node's exporters use a read-only token: PVEAuditor on / for the user and its privilege-separated token", () => {
    const token = one(priv.resources, proxmoxve.user.Token, "private-monitoring-host-token");
    expect(token.inputs).toMatchObject({
        userId: "aids-monitoring@pve",
        tokenName: "monitoring",
        privilegesSeparation: true,
    });
    const acls = ofType(priv.resources, proxmoxve.Acl).filter((a) => a.name.startsWith("private-monitoring-host-acl"));
    expect(acls.map((a) => a.inputs)).toEqual([
        expect.objectContaining({ path: "/", roleId: "PVEAuditor", userId: "aids-monitoring@pve" }),
        expect.objectContaining({ path: "/", roleId: "PVEAuditor", tokenId: "aids-monitoring@pve!monitoring" }),
    ]);
    const setup = one(priv.resources, command.remote.Command, "private-monitoring-host-pve1-setup");
    expect(setup.inputs["connection"]).toMatchObject({ host: "192.168.1.10", user: "root" });
    expect(setup.secretInputs).toContain("stdin");
    for (const acl of acls) expect(setup.dependencies).toContain(acl.urn);
    expect(setup.dependencies).toContain(one(priv.resources, command.remote.Command, "private-pve1-bootstrap").urn);
    expect(ofType(pub.resources, proxmoxve.user.Token)).toEqual([]);
});

test("the outputs list every target with its labels; the public stack's own targets are the ones the server scrapes there", () => {
    const server = priv.outputs?.monitoring?.server;
    expect(server?.urls).toEqual(["http://10.10.10.24:9090", "http://10.10.10.24:3000"]);
    expect(server?.alertRules).toBe(ALERT_RULES.length);
    expect(server?.unreachable).toEqual([]);
    const publicOwn = pub.outputs?.monitoring?.targets ?? [];
    expect(publicOwn).toEqual([
        "cadvisor public-ai (public, gpu rtx3060): http://10.20.20.10:8480/metrics/cadvisor/metrics via trusted-only route",
        "node public-ai (public, gpu rtx3060): http://10.20.20.10:8480/metrics/node/metrics via trusted-only route",
        "gpu public-ai (public, gpu rtx3060): http://10.20.20.10:8480/metrics/gpu/metrics via trusted-only route",
        "node public-postgres (public): http://10.20.20.20:9100/metrics via node-exporter in the container",
        "node public-redis (public): http://10.20.20.21:9100/metrics via node-exporter in the container",
    ]);
    for (const t of publicOwn) expect(server?.targets).toContain(t);
    expect(server?.targets).toContain(
        "pve pve1 (host): http://192.168.1.10:9221/pve via the node's firewall admits the monitoring host",
    );
});
