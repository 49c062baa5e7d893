// Every mandatory rule of the policy pack (policy/), broken once by a program change that no config rule sees, under
// the real engine (`pulumi preview --policy-pack policy`) and offline (`npm run policy`, the mock runtime): both must
// report the same finding, rule by rule. All the changes go into one preview of the public stack, services included
// (the docker plugin stood in by testing/dockerStandIn.ts), so the suite costs one engine run and one offline plan.

import * as pulumi from "@pulumi/pulumi";
import * as net from "net";
import * as path from "path";
import { policies } from "../../policy/policies";
import { runProgram } from "../../stacks";
import { dockerStandIn } from "../../testing/dockerStandIn";
import { EngineRun, EngineStack, failureOf } from "../../testing/engine";
import { engineConfig, previewOverrides } from "../../testing/engineConfig";
import { engineToolchain } from "../../testing/engineToolchain";
import { assumeHosts, planStack } from "../../testing/planStack";
import { runPolicies } from "../../testing/policyRun";
import { PROJECT_DIR } from "../../testing/stackFiles";
import { T } from "../policy/fixtures";

const toolchain = engineToolchain();
const POLICY_PACK = path.join(PROJECT_DIR, "policy");
const STACK = "public";

type Props = Record<string, unknown>;

/** One program change: the resource it changes (type token and name) and how. */
interface Change {
    type: string;
    name: string;
    props?: (props: Props) => Props;
    opts?: (opts: pulumi.CustomResourceOptions) => pulumi.CustomResourceOptions;
}

/** `value` (an input: plain or Output) mapped by `f`. */
const mapped = <T>(value: unknown, f: (v: T) => unknown) =>
    pulumi.output(value as pulumi.Input<T>).apply((v) => f(v as unknown as T));
/** A list (of NICs, of PCI devices) with its first entry changed. */
const withFirst = (patch: Props) => (nics: Props[]) => nics.map((n, i) => (i === 0 ? { ...n, ...patch } : n));

/** A rule's finding: the resource it names ("the stack" for a stack-wide one) and its message. */
type Finding = [resource: string, message: string];

/** Each rule, the change that breaks it, and what it must report. */
const BREACHES: { rule: string; change: Change[]; findings: Finding[] }[] = [
    {
        rule: "guest-on-own-environment-bridge",
        change: [
            {
                type: T.lxc,
                name: "public-redis",
                props: (p) => ({
                    ...p,
                    networkInterfaces: mapped(p["networkInterfaces"], withFirst({ bridge: "vmbr9" })),
                }),
            },
        ],
        findings: [["public-redis", "public-redis (public) is on bridge vmbr9, which this stack does not declare"]],
    },
    {
        rule: "public-vm-outbound-drop",
        change: [
            { type: T.options, name: "public-ai-firewall-options", props: (p) => ({ ...p, outputPolicy: "ACCEPT" }) },
        ],
        findings: [
            ["public-ai-firewall-options", "public-ai-firewall-options: outputPolicy is ACCEPT on public VM public-ai"],
        ],
    },
    {
        // The change a real-engine preview once let through: the engine hands a stack policy the container's
        // options with vmId: null.
        rule: "public-lxc-outbound-drop",
        change: [
            {
                type: T.options,
                name: "public-postgres-firewall-options",
                props: (p) => ({ ...p, outputPolicy: "ACCEPT" }),
            },
        ],
        findings: [
            [
                "public-postgres-firewall-options",
                "public-postgres-firewall-options: outputPolicy is ACCEPT on public container public-postgres",
            ],
        ],
    },
    {
        rule: "no-wide-management-ports",
        change: [
            {
                type: T.rules,
                name: "public-redis-firewall-rules",
                props: (p) => ({
                    ...p,
                    rules: mapped<Props[]>(p["rules"], (rules) => [
                        ...rules,
                        { type: "in", action: "ACCEPT", proto: "tcp", dport: "22", source: "0.0.0.0/0", enabled: true },
                    ]),
                }),
            },
        ],
        findings: [["public-redis-firewall-rules", "rule opens port 22 from 0.0.0.0/0"]],
    },
    {
        rule: "no-guest-on-management-vlan",
        change: [
            {
                type: T.lxc,
                name: "public-postgres",
                props: (p) => ({ ...p, networkInterfaces: mapped(p["networkInterfaces"], withFirst({ vlanId: 1 })) }),
            },
        ],
        findings: [["public-postgres", "networkInterfaces[0] tags VLAN 1"]],
    },
    {
        rule: "gpu-by-mapping",
        change: [
            {
                type: T.vm,
                name: "public-ai",
                props: (p) => ({
                    ...p,
                    hostpcis: mapped<Props[]>(p["hostpcis"], (h) => [
                        ...h,
                        { device: "hostpci1", id: "0000:03:00", pcie: true },
                    ]),
                }),
            },
        ],
        findings: [["public-ai", "hostpcis[1] passes raw PCI id 0000:03:00"]],
    },
    {
        rule: "gpu-vm-machine",
        change: [{ type: T.vm, name: "public-ai", props: (p) => ({ ...p, machine: "pc" }) }],
        findings: [["public-ai", "machine is pc, not q35"]],
    },
    {
        rule: "gpu-vm-no-provider-restart",
        change: [{ type: T.vm, name: "public-ai", props: (p) => ({ ...p, reboot: true }) }],
        findings: [["public-ai", "reboot is true: the provider restarts the VM after creating it"]],
    },
    {
        rule: "pci-mapping-one-vm",
        change: [
            {
                type: T.vm,
                name: "public-ai",
                props: (p) => ({ ...p, hostpcis: mapped(p["hostpcis"], withFirst({ mapping: "public-other" })) }),
            },
        ],
        findings: [
            ["public-ai-gpu", "mapping public-rtx3060 is used by 0 VMs"],
            ["public-ai", "public-ai uses mapping public-other, which this stack does not declare"],
        ],
    },
    {
        rule: "gpu-vm-has-throughput-gate",
        change: [
            {
                type: T.gate,
                name: "public-ai-gate-mistral-7b",
                props: (p) => ({ ...p, endpoint: "http://10.20.20.99:8480" }),
            },
        ],
        findings: [["public-ai", "public-ai (10.20.20.10) has no ModelThroughput gate"]],
    },
    {
        rule: "protect-stateful",
        change: [{ type: T.lxc, name: "public-postgres", opts: (o) => ({ ...o, protect: false }) }],
        findings: [["public-postgres", "postgresql container is not protected"]],
    },
    {
        rule: "lxc-unprivileged",
        change: [{ type: T.lxc, name: "public-redis", props: (p) => ({ ...p, unprivileged: false }) }],
        findings: [["public-redis", "container is privileged (unprivileged: false)"]],
    },
    {
        rule: "guest-firewall-default-drop",
        change: [
            { type: T.options, name: "public-redis-firewall-options", props: (p) => ({ ...p, inputPolicy: "ACCEPT" }) },
        ],
        findings: [["public-redis-firewall-options", "inputPolicy is ACCEPT, not DROP"]],
    },
    {
        rule: "guest-nic-firewall",
        change: [
            {
                type: T.vm,
                name: "public-ai",
                props: (p) => ({ ...p, networkDevices: mapped(p["networkDevices"], withFirst({ firewall: false })) }),
            },
        ],
        findings: [["public-ai", "networkDevices[0] does not set firewall: true"]],
    },
    {
        rule: "public-publishes-web-only",
        change: [
            {
                type: T.container,
                name: "public-ai-workload-chat",
                props: (p) => ({ ...p, ports: [{ internal: 8080, external: 3000 }] }),
            },
        ],
        findings: [["public-ai-workload-chat", "chat publishes port 3000 on a public network"]],
    },
    {
        // The container's image is the image resource's output, unknown in an engine preview (the engine says so
        // as an advisory "can't run ... during preview"): the change sets both, as the engine checks both at `up`.
        rule: "images-pinned",
        change: [
            {
                type: T.image,
                name: "public-ai-workload-ollama-image",
                props: (p) => ({ ...p, name: "ollama/ollama:latest" }),
            },
            {
                type: T.container,
                name: "public-ai-workload-ollama",
                props: (p) => ({ ...p, image: "ollama/ollama:latest" }),
            },
        ],
        findings: [
            ["public-ai-workload-ollama-image", "image ollama/ollama:latest is tagged :latest"],
            ["public-ai-workload-ollama", "container image ollama/ollama:latest is tagged :latest"],
        ],
    },
    {
        rule: "container-healthcheck",
        change: [{ type: T.container, name: "public-ai-workload-cadvisor", props: ({ healthcheck: _, ...p }) => p }],
        findings: [["public-ai-workload-cadvisor", "container cadvisor has no healthcheck"]],
    },
    {
        rule: "cloud-init-no-password-ssh",
        change: [
            {
                type: T.file,
                name: "public-ai-user-data",
                props: (p) => ({
                    ...p,
                    sourceRaw: mapped<Props>(p["sourceRaw"], (raw) => ({
                        ...raw,
                        data: String(raw["data"]).replace(/^ssh_pwauth:.*$/m, "ssh_pwauth: true"),
                    })),
                }),
            },
        ],
        findings: [["public-ai-user-data", "public-public-ai-user-data.yaml does not set ssh_pwauth: false"]],
    },
    {
        rule: "key-material-only-in-credentials",
        change: [
            {
                type: T.vm,
                name: "public-ai",
                props: (p) => ({
                    ...p,
                    description: mapped(p["description"], (d) => `${String(d)}\n-----BEGIN OPENSSH PRIVATE KEY-----`),
                }),
            },
        ],
        findings: [["public-ai", "key material in input description"]],
    },
    {
        // Not a mandatory rule: what a rule could not check is reported by the advisory, under both alike.
        rule: "policy-could-not-check",
        change: [
            {
                type: T.container,
                name: "public-ai-workload-node-exporter",
                props: (p) => ({ ...p, networksAdvanced: [{ name: "elsewhere" }] }),
            },
        ],
        findings: [
            [
                "public-ai-workload-node-exporter",
                "public-publishes-web-only could not check node-exporter joins elsewhere, which this stack does not declare",
            ],
        ],
    },
];

/**
 * The docker provider given a known host. The program's dials the VM, whose address is unknown in a preview of
 * creates, so the engine would skip the provider and plan no values for the containers, and the stack rule on their
 * ports could not check them (it says so: policy-could-not-check). Known, the stand-in plans them, as the real
 * provider does once the VM exists.
 */
const KNOWN_DOCKER_HOST: Change = {
    type: "pulumi:providers:docker",
    name: "public-ai-workload-docker",
    props: (p) => ({ ...p, host: "ssh://aids@10.20.20.10" }),
};

/** The stack transformation that makes every change of BREACHES. */
const breakAll: pulumi.ResourceTransformation = (args) => {
    const changes = [KNOWN_DOCKER_HOST, ...BREACHES.flatMap((b) => b.change)].filter(
        (c) => c.type === args.type && c.name === args.name,
    );
    if (changes.length === 0) return undefined;
    let { props, opts } = args;
    for (const c of changes) {
        if (c.props) props = c.props(props);
        if (c.opts) opts = c.opts(opts);
    }
    return { props, opts };
};

/** A finding as "rule resource: message"; the resource is the URN's name, or "the stack". */
function key(rule: string, urn: string | undefined, message: string): string {
    const name = urn === undefined || urn.includes("::pulumi:pulumi:Stack::") ? "the stack" : urn.split("::").pop();
    return `${rule} ${name}: ${message.trim()}`;
}

/**
 * The mandatory rules that judge no resource: workflow-credentials-in-environment reads .github/workflows, which no
 * program change reaches; the engine and the offline run call the same function on the same files, and
 * tests/policy/workflows.test.ts breaks it.
 */
const NOT_FROM_RESOURCES = new Set(["workflow-credentials-in-environment"]);

const RULES = new Set(BREACHES.map((b) => b.rule));
const expected = BREACHES.flatMap((b) => b.findings.map(([name, message]) => `${b.rule} ${name}: ${message}`)).sort();

(toolchain ? describe : describe.skip)("every mandatory rule, broken once, under the real engine and offline", () => {
    test("the breaches cover every mandatory rule of the pack", () => {
        const mandatory = policies.filter((p) => p.enforcementLevel === "mandatory").map((p) => p.name);
        expect(mandatory.filter((name) => !RULES.has(name) && !NOT_FROM_RESOURCES.has(name))).toEqual([]);
    });

    test("the engine and the offline run report each rule's finding, the same, and no other mandatory one", async () => {
        // Nothing in a preview may dial the Proxmox API: it is pointed at a listener that counts.
        let dialed = 0;
        const server = net.createServer((socket) => {
            dialed++;
            socket.destroy();
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const { port } = server.address() as net.AddressInfo;
        const overrides = previewOverrides(STACK, (scheme) => `${scheme}://127.0.0.1:${port}/`, {
            gates: false,
            services: true,
        });
        const docker = dockerStandIn();
        const engine = await EngineStack.create({
            toolchain: toolchain!,
            stackName: STACK,
            program: () => {
                pulumi.runtime.registerStackTransformation(breakAll);
                return runProgram({ checkHosts: assumeHosts("ready") });
            },
            envVars: docker.envVars,
        });
        try {
            const { plain, secrets } = engineConfig(STACK, overrides);
            await engine.setConfig(plain, secrets);
            const { run }: { run: EngineRun } = await failureOf(engine.preview({ policyPacks: [POLICY_PACK] }));
            // The engine prefixes each message with the policy's description.
            const described = new Map(policies.map((p) => [p.name, `${p.description}\n`]));
            // The pack's own findings; not the engine's advisory "can't run <policy> during preview: <value> can't
            // be known", which it reports where a policy reads a value unknown until up (each container's image).
            const underEngine = run.policyViolations
                .filter((v) => !v.message.startsWith("can't run policy "))
                .filter((v) => RULES.has(v.policyName) || v.enforcementLevel === "mandatory")
                .map((v) => {
                    const prefix = described.get(v.policyName) ?? "";
                    const message = v.message.startsWith(prefix) ? v.message.slice(prefix.length) : v.message;
                    return key(v.policyName, v.urn, message);
                })
                .sort();

            const offlineRun = await planStack(STACK, { overrides, transform: breakAll });
            const offline = (await runPolicies(policies, offlineRun.resources))
                .filter((v) => RULES.has(v.policy) || v.level === "mandatory")
                .map((v) => key(v.policy, v.urn, v.message))
                .sort();

            expect(underEngine).toEqual(expected);
            expect(offline).toEqual(expected);
            expect(dialed).toBe(0);
        } finally {
            server.close();
            docker.dispose();
            await engine.dispose();
        }
    });
});
