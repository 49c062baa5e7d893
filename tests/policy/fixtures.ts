// Happy-path resources for the policy tests, in the shapes the program registers (taken from the
// offline plan of the public stack), and a runner that returns each violation as "policy: message".

import type { Policy, PolicyPackConfig } from "@pulumi/policy";
import type { RecordedResource } from "../../testing/mockRuntime";
import { runPolicies } from "../../testing/policyRun";

export const T = {
    vm: "proxmoxve:index/vmLegacy:VmLegacy",
    lxc: "proxmoxve:index/containerLegacy:ContainerLegacy",
    bridge: "proxmoxve:network/linux/bridge:Bridge",
    options: "proxmoxve:firewall/optionsLegacy:OptionsLegacy",
    rules: "proxmoxve:firewall/rulesLegacy:RulesLegacy",
    group: "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy",
    pci: "proxmoxve:hardware/mapping/pci:Pci",
    zfs: "proxmoxve:node/disk/zfs:Zfs",
    file: "proxmoxve:index/fileLegacy:FileLegacy",
    image: "docker:index/remoteImage:RemoteImage",
    container: "docker:index/container:Container",
    network: "docker:index/network:Network",
    gate: "pulumi-nodejs:dynamic/ollama:ModelThroughput",
    command: "command:remote:Command",
} as const;

/** A recorded resource as the mock runtime would hand it over (the resource object is not read by the pack). */
export function rec(type: string, name: string, inputs: Record<string, unknown>, protect = false): RecordedResource {
    return {
        resource: undefined as never,
        urn: `urn:pulumi:test::ai-dualstack::${type}::${name}`,
        type,
        name,
        custom: true,
        inputs,
        secretInputs: [],
        dependencies: [],
        protect,
    };
}

export const vmInputs = () => ({
    bios: "ovmf",
    machine: "q35",
    hostpcis: [{ device: "hostpci0", mapping: "public-rtx3060", pcie: true, rombar: true, xvga: false }],
    initialization: { ipConfigs: [{ ipv4: { address: "10.20.20.10/24", gateway: "10.20.20.1" } }] },
    name: "public-ai",
    networkDevices: [{ bridge: "vmbr2", firewall: true, model: "virtio", queues: 8 }],
    nodeName: "pve1",
    rebootAfterUpdate: false,
    tags: ["ai-dualstack", "gpu", "public"],
    vmId: 210,
});

export const lxcInputs = () => ({
    networkInterfaces: [{ bridge: "vmbr2", firewall: true, name: "eth0" }],
    nodeName: "pve1",
    tags: ["ai-dualstack", "lxc", "postgresql", "public"],
    unprivileged: true,
    vmId: 220,
});

export const optionsInputs = () => ({
    containerId: 220,
    enabled: true,
    inputPolicy: "DROP",
    nodeName: "pve1",
    outputPolicy: "DROP",
});

export const containerInputs = () => ({
    healthcheck: { interval: "30s", retries: 3, tests: ["CMD", "ollama", "list"], timeout: "10s" },
    image: "ollama/ollama:0.11.4",
    memory: 8192,
    name: "ollama",
    networksAdvanced: [{ aliases: ["ollama"], name: "public-ai-net" }],
    ports: [] as unknown[],
});

/** The public stack in miniature: one bridge, one GPU VM with its mapping and gate, one container, its firewall. */
export function miniStack(): RecordedResource[] {
    return [
        rec(T.bridge, "vmbr2", { comment: "public: DMZ", name: "vmbr2", nodeName: "pve1" }),
        rec(T.pci, "public-ai-gpu", {
            name: "public-rtx3060",
            maps: [{ id: "10de:2504", node: "pve1", path: "0000:02:00" }],
        }),
        rec(T.vm, "public-ai", vmInputs(), true),
        rec(T.gate, "public-ai-gate", { endpoint: "http://10.20.20.10:8480", model: "mistral:7b" }),
        rec(T.lxc, "public-postgres", lxcInputs(), true),
        rec(T.options, "public-postgres-firewall-options", optionsInputs()),
        rec(T.network, "public-ai-net", {
            name: "public-ai-net",
            labels: [{ label: "ai-dualstack.environment", value: "public" }],
        }),
        rec(T.container, "public-ai-workload-proxy", {
            ...containerInputs(),
            name: "proxy",
            ports: [
                { external: 80, internal: 80 },
                { external: 443, internal: 443 },
                // The trusted entrypoint: the VM's firewall, not Docker, limits who reaches it.
                { external: 8480, internal: 8480 },
            ],
        }),
    ];
}

/** Runs one policy; each violation as "policy-name: message". */
export async function violations(
    policy: Policy,
    resources: RecordedResource[],
    config: PolicyPackConfig = {},
): Promise<string[]> {
    const found = await runPolicies([policy], resources, config);
    return found.map((v) => `${v.policy}: ${v.message}`);
}
