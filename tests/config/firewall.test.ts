// Each guest's own inbound rules, derived from the config: what it publishes to whom, what its data
// layer serves to the guests that use it, node-exporter to the monitoring host alone, nothing on
// every port. The model is the one the program builds from: the exporter rule is part of it.

import { stackModel } from "../helpers/config";

const priv = stackModel("private");
const pub = stackModel("public");
/** Every service container's node-exporter, to the monitoring container alone; last in its list. */
const exporter = { port: "9100", proto: "tcp", source: "10.10.10.24/32" };
const inboundOf = (model: typeof priv, name: string) =>
    [...model.vms, ...model.containers].find((g) => g.name === name)?.inbound.map(({ comment: _c, ...r }) => r);

// The VPN's clients arrive masqueraded as the WireGuard container (10.10.10.22), so it is trusted with the VPN.
test("private-ai: the UIs and APIs to the LAN and VPN, the exporters to the monitoring container alone", () => {
    expect(inboundOf(priv, "private-ai")).toEqual([
        { port: "3000,3001,6333,8888,11434", proto: "tcp", source: "10.10.10.22/32" },
        { port: "3000,3001,6333,8888,11434", proto: "tcp", source: "10.8.0.0/24" },
        { port: "3000,3001,6333,8888,11434", proto: "tcp", source: "192.168.1.0/24" },
        { port: "8081,9100,9835", proto: "tcp", source: "10.10.10.24/32" },
    ]);
});

test("PostgreSQL and Redis answer only the VM that uses them; monitoring shows its UIs to the LAN and VPN", () => {
    expect(inboundOf(priv, "private-postgres")).toEqual([
        { port: "5432", proto: "tcp", source: "10.10.10.10/32" },
        exporter,
    ]);
    expect(inboundOf(priv, "private-redis")).toEqual([
        { port: "6379", proto: "tcp", source: "10.10.10.10/32" },
        exporter,
    ]);
    expect(inboundOf(priv, "private-monitoring")).toEqual([
        { port: "3000,9090", proto: "tcp", source: "10.10.10.22/32" },
        { port: "3000,9090", proto: "tcp", source: "10.8.0.0/24" },
        { port: "3000,9090", proto: "tcp", source: "192.168.1.0/24" },
        exporter,
    ]);
    // PBS's API and GUI to the LAN (where the node's vzdump runs) and the VPN.
    expect(inboundOf(priv, "private-backup")).toEqual([
        { port: "8007", proto: "tcp", source: "10.10.10.22/32" },
        { port: "8007", proto: "tcp", source: "10.8.0.0/24" },
        { port: "8007", proto: "tcp", source: "192.168.1.0/24" },
        exporter,
    ]);
    // Roles that serve nothing open nothing beyond the baseline's SSH and ping, and node-exporter.
    expect(inboundOf(priv, "private-cicd")).toEqual([exporter]);
    // WireGuard to roaming peers; CrowdSec's API and syslog to the node alone.
    expect(inboundOf(priv, "private-security")).toEqual([
        { port: "51820", proto: "udp", source: "any" },
        { port: "8080", proto: "tcp", source: "192.168.1.10/32" },
        { port: "5140", proto: "udp", source: "192.168.1.10/32" },
        exporter,
    ]);
});

test("public: the proxy's 80 and 443 to anyone, its trusted entrypoint to the LAN and monitoring alone, the data containers to public-ai alone", () => {
    expect(inboundOf(pub, "public-ai")).toEqual([
        { port: "80,443", proto: "tcp", source: "any" },
        { port: "8480", proto: "tcp", source: "10.10.10.24/32" },
        { port: "8480", proto: "tcp", source: "192.168.1.0/24" },
    ]);
    expect(inboundOf(pub, "public-postgres")).toEqual([
        { port: "5432", proto: "tcp", source: "10.20.20.10/32" },
        exporter,
    ]);
    expect(inboundOf(pub, "public-redis")).toEqual([
        { port: "6379", proto: "tcp", source: "10.20.20.10/32" },
        exporter,
    ]);
});

test("each rule says what it opens and to whom", () => {
    const rule = priv.vms[0]?.inbound.find((r) => r.source === "10.10.10.24/32");
    expect(rule?.comment).toBe("node-exporter, cadvisor, nvidia-exporter from 10.10.10.24/32");
});
