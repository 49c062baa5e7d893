// The monitoring model, plain: which exporter each guest runs and how the monitoring host reaches it
// (a published port, a trusted-only route, node-exporter in a container), the labels, the peer
// stacks' guests loaded once from their own files, and the /32 rule every container gets.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../config/load";
import { resolveStack } from "../../config/resolve";
import { exporterRule } from "../../config/resolve/firewall";
import { guestTargets, peerGuests } from "../../config/resolve/monitoring";
import { ServiceConfig } from "../../config/schema";
import { PROJECT_ROOT } from "../../lib/paths";
import { POLICIES } from "../../stacks";
import { parsedStack, rawConfig, stackModel } from "../helpers/config";

const svc = (image: string, extra: Partial<ServiceConfig> = {}) =>
    ({ image, ports: [], ...extra }) as unknown as ServiceConfig;

test("an exporter is reached by its published port, else by a plain trusted-only route with a path; else it is reported", () => {
    const unreachable: string[] = [];
    const targets = guestTargets(
        {
            name: "vm1",
            kind: "vm",
            environment: "public",
            ip: "10.20.20.10",
            gpu: "rtx3060",
            services: {
                "node-exporter": svc("prom/node-exporter:v1.9.1", {
                    ports: [{ published: 9101, target: 9100 }],
                } as never),
                "nvidia-exporter": svc("utkuozdemir/nvidia_gpu_exporter:1.3.2"),
                cadvisor: svc("gcr.io/cadvisor/cadvisor:v0.52.1"),
                // The trusted entrypoint published on another port: the target follows the published one.
                proxy: svc("traefik:v3.5.3", {
                    ports: [{ published: 8481, target: 8480, protocol: "tcp" }],
                    proxy: {
                        routes: [
                            {
                                host: "10.20.20.10",
                                pathPrefix: "/metrics/gpu",
                                service: "nvidia-exporter",
                                port: 9835,
                                tls: false,
                                trustedOnly: true,
                            },
                            // Over TLS or open to all, a route is no way in for the exporter.
                            {
                                host: "m.example.com",
                                pathPrefix: "/c",
                                service: "cadvisor",
                                port: 8080,
                                tls: true,
                                trustedOnly: true,
                            },
                        ],
                    },
                } as never),
                ollama: svc("ollama/ollama:0.11.4"),
            },
        },
        unreachable,
    );
    const labels = { environment: "public", guest: "vm1", guest_type: "vm", gpu: "rtx3060" };
    expect(targets).toEqual([
        { job: "node", address: "10.20.20.10:9101", metricsPath: "/metrics", labels, via: "published port" },
        {
            job: "gpu",
            address: "10.20.20.10:8481",
            metricsPath: "/metrics/gpu/metrics",
            labels,
            via: "trusted-only route",
        },
    ]);
    expect(unreachable).toEqual(["vm1/cadvisor: no published port or trusted-only route"]);
});

test("a plain route is no way in when the proxy does not publish its trusted entrypoint", () => {
    const unreachable: string[] = [];
    const route = { host: "10.20.20.10", pathPrefix: "/m", service: "node-exporter", port: 9100, tls: false };
    const targets = guestTargets(
        {
            name: "vm1",
            kind: "vm",
            environment: "public",
            ip: "10.20.20.10",
            services: {
                "node-exporter": svc("prom/node-exporter:v1.9.1"),
                // 80 and 443 only: the plain route is not served there, so the monitoring host has no target.
                proxy: svc("traefik:v3.5.3", {
                    ports: [
                        { published: 80, target: 80, protocol: "tcp" },
                        { published: 443, target: 443, protocol: "tcp" },
                    ],
                    proxy: { routes: [{ ...route, trustedOnly: true }] },
                } as never),
            },
        },
        unreachable,
    );
    expect(targets).toEqual([]);
    expect(unreachable).toEqual(["vm1/node-exporter: no published port or trusted-only route"]);
});

test("a container is scraped on its node-exporter; a guest without a static address is reported", () => {
    const unreachable: string[] = [];
    expect(
        guestTargets(
            { name: "ct", kind: "container", environment: "private", ip: "10.10.10.20", services: {} },
            unreachable,
        ),
    ).toEqual([
        {
            job: "node",
            address: "10.10.10.20:9100",
            metricsPath: "/metrics",
            labels: { environment: "private", guest: "ct", guest_type: "container" },
            via: "node-exporter in the container",
        },
    ]);
    expect(guestTargets({ name: "dyn", kind: "container", environment: "private", services: {} }, unreachable)).toEqual(
        [],
    );
    expect(unreachable).toEqual(["dyn: no static address"]);
});

test("a peer stack is loaded once, through the same loader and schema as the stack's own file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-peer-"));
    // The project file holds the shared host facts the peer's config needs, as in the repository.
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(
        path.join(dir, "Pulumi.lab.yaml"),
        [
            "config:",
            "  ai-dualstack:environment: public",
            "  ai-dualstack:serviceSecrets: { secure: AAABAExampleCiphertext }",
            "  ai-dualstack:containers:",
            "    lab-db: { vmid: 230, node: pve1, role: postgresql, disk: { storage: s }, network: { bridge: vmbr2, address: 10.20.20.30/24 }, sshPublicKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForTheTestOnly0000000000000000000 t] }",
        ].join("\n"),
    );
    const withPeer = (peer: string) =>
        rawConfig("private", (v) => {
            (v["monitoring"] as { peerStacks: string[] }).peerStacks = [peer];
        });
    const ok = parseStackConfig(withPeer("lab"), POLICIES, dir);
    if (!ok.ok) throw new Error(JSON.stringify(ok.issues));
    expect(ok.peers.map((p) => [p.stack, p.environment])).toEqual([["lab", "public"]]);
    expect(ok.peers.flatMap(peerGuests)).toEqual([
        { name: "lab-db", kind: "container", environment: "public", ip: "10.20.20.30", services: {} },
    ]);
    // The peer's targets reach the server's, resolved in the same pass.
    const model = resolveStack(ok.config, "private", POLICIES.private, ok.peers);
    expect(model.monitoring?.server?.targets.filter((t) => t.labels.environment === "public")).toEqual([
        {
            job: "node",
            address: "10.20.20.30:9100",
            metricsPath: "/metrics",
            labels: { environment: "public", guest: "lab-db", guest_type: "container" },
            via: "node-exporter in the container",
        },
    ]);

    fs.writeFileSync(
        path.join(dir, "Pulumi.bad.yaml"),
        "config:\n  ai-dualstack:containers:\n    bad-db: { vmid: 1 }\n",
    );
    const bad = parseStackConfig(withPeer("bad"), POLICIES, dir);
    expect(bad.ok ? [] : bad.issues).toEqual([
        {
            path: "monitoring.peerStacks[0]",
            message:
                "Pulumi.bad.yaml holds a config its own stack would refuse (containers.bad-db.vmid: Proxmox guest ids start at 100)",
        },
    ]);
});

test("without monitoring no container gets the exporter rule; with it every one gets the one /32 rule, and only the owning stack a server", () => {
    const { config: privCfg, peers } = parsedStack("private");
    const plain = resolveStack({ ...privCfg, monitoring: undefined }, "private", POLICIES.private, peers);
    expect(plain.monitoring).toBeUndefined();
    for (const ct of plain.containers) expect(ct.inbound).not.toContainEqual(exporterRule("10.10.10.24/32"));
    const priv = stackModel("private");
    for (const ct of priv.containers) expect(ct.inbound).toContainEqual(exporterRule("10.10.10.24/32"));
    expect(exporterRule("10.10.10.24/32")).toEqual({
        port: "9100",
        proto: "tcp",
        source: "10.10.10.24/32",
        comment: "node-exporter from 10.10.10.24/32 (monitoring)",
    });
    expect(priv.monitoring?.server?.containerAddress).toBe("10.10.10.24");
    const pub = stackModel("public");
    expect(pub.monitoring?.server).toBeUndefined();
    expect(pub.monitoring?.source).toBe("10.10.10.24/32");
    // The public VM's exporters appear in the private server's targets with the public labels.
    const gpuPublic = priv.monitoring?.server?.targets.find((t) => t.job === "gpu" && t.labels.guest === "public-ai");
    expect(gpuPublic?.labels).toEqual({ environment: "public", guest: "public-ai", guest_type: "vm", gpu: "rtx3060" });
});
