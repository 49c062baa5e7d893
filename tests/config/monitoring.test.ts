// The monitoring model, plain: which exporter each guest runs and how the monitoring host reaches it
// (a published port, a trusted-only route, node-exporter in a container), the labels, the peer
// stacks' guests read from their own files, and the /32 rule every container gets.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exporterRule, guestTargets, readPeerGuests, withMonitoring } from "../../config/monitoring";
import { ServiceConfig } from "../../config/schema";
import { parsedConfig, stackModel } from "../helpers/config";

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
                proxy: svc("traefik:v3.5.3", {
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
            address: "10.20.20.10:80",
            metricsPath: "/metrics/gpu/metrics",
            labels,
            via: "trusted-only route",
        },
    ]);
    expect(unreachable).toEqual(["vm1/cadvisor: no published port or trusted-only route"]);
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

test("a peer stack's guests come from its own stack file, through the same schema", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-peer-"));
    fs.writeFileSync(
        path.join(dir, "Pulumi.lab.yaml"),
        [
            "config:",
            "  ai-dualstack:environment: public",
            "  ai-dualstack:containers:",
            "    lab-db: { vmid: 230, node: pve1, role: postgresql, disk: { storage: s }, network: { bridge: vmbr2, address: 10.20.20.30/24 }, sshPublicKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForTheTestOnly0000000000000000000 t] }",
        ].join("\n"),
    );
    expect(readPeerGuests("lab", dir)).toEqual([
        { name: "lab-db", kind: "container", environment: "public", ip: "10.20.20.30", services: {} },
    ]);
    fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), "config:\n  ai-dualstack:containers:\n    x: { vmid: 1 }\n");
    expect(() => readPeerGuests("bad", dir)).toThrow();
});

test("without monitoring nothing changes; with it every container gets the one /32 rule, and only the owning stack a server", () => {
    const privCfg = parsedConfig("private");
    const plain = stackModel("private");
    expect(withMonitoring(plain, { ...privCfg, monitoring: undefined })).toBe(plain);
    const priv = withMonitoring(plain, privCfg);
    for (const ct of priv.containers) expect(ct.inbound).toContainEqual(exporterRule("10.10.10.24/32"));
    expect(exporterRule("10.10.10.24/32")).toEqual({
        port: "9100",
        proto: "tcp",
        source: "10.10.10.24/32",
        comment: "node-exporter from 10.10.10.24/32 (monitoring)",
    });
    expect(priv.monitoring?.server?.containerAddress).toBe("10.10.10.24");
    const pub = withMonitoring(stackModel("public"), parsedConfig("public"));
    expect(pub.monitoring?.server).toBeUndefined();
    expect(pub.monitoring?.source).toBe("10.10.10.24/32");
    // The public VM's exporters appear in the private server's targets with the public labels.
    const gpuPublic = priv.monitoring?.server?.targets.find((t) => t.job === "gpu" && t.labels.guest === "public-ai");
    expect(gpuPublic?.labels).toEqual({ environment: "public", guest: "public-ai", guest_type: "vm", gpu: "rtx3060" });
});
