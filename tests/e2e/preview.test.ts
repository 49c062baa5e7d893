// A real `pulumi preview` of both stacks: the project's own program, run by the real engine with the real proxmoxve,
// command and Node.js dynamic-provider plugins, must plan exactly what the offline plan (mock runtime) plans. And
// the proxmoxve provider itself refuses what the project's config checks would have caught first.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as net from "net";
import { runProgram } from "../../stacks";
import { assumeHosts } from "../../testing/planStack";
import { EngineError, EngineRun, EngineStack } from "../../testing/engine";
import { engineToolchain } from "../../testing/engineToolchain";
import { planStack } from "../../testing/planStack";
import * as path from "path";
import { policies } from "../../policy/policies";
import { engineConfig, previewOverrides } from "../../testing/engineConfig";
import { runPolicies } from "../../testing/policyRun";
import { PROJECT_DIR } from "../../testing/stackFiles";

const toolchain = engineToolchain();
const POLICY_PACK = path.join(PROJECT_DIR, "policy");

/** A loopback listener that counts connections: nothing in a preview of creates may dial it. */
async function probe(): Promise<{ url: (scheme: string) => string; connections: () => number; close: () => void }> {
    let count = 0;
    const server = net.createServer((socket) => {
        count++;
        socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    return { url: (scheme) => `${scheme}://127.0.0.1:${port}/`, connections: () => count, close: () => server.close() };
}

function countByType(items: { type: string }[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { type } of items) counts[type] = (counts[type] ?? 0) + 1;
    return counts;
}

/** The engine's own default providers (`default_1_2_1`), which no program registers and changeSummary leaves out. */
const isDefaultProvider = (urn: string) => /::pulumi:providers:[^:]+::default(_[\d_]+)?$/.test(urn);

/** Creates per type among the preview's custom resources. */
function customCreates(run: EngineRun, componentTypes: Set<string>): Record<string, number> {
    return countByType(
        run.steps.filter(
            (s) =>
                s.op === "create" &&
                s.type !== "pulumi:pulumi:Stack" &&
                !componentTypes.has(s.type) &&
                !isDefaultProvider(s.urn),
        ),
    );
}

/** The warning every run prints while the proxmoxve plugin is the 8.3.0 build (see .ci/pulumi-toolchain.sh). */
const PLUGIN_VERSION_WARNING = /^resource plugin proxmoxve is expected to have version >=8\.6\.0, but has 8\.3\.0/;

(toolchain ? describe : describe.skip).each(["private", "public"])(
    "a real pulumi preview of the %s stack (VMs without services: no docker plugin here)",
    (stack) => {
        let engine: EngineStack;
        let run: EngineRun;
        let listener: Awaited<ReturnType<typeof probe>>;

        beforeAll(async () => {
            listener = await probe();
            engine = await EngineStack.create({
                toolchain: toolchain!,
                stackName: stack,
                // The real program; its host check is stood in (a ready host): there is no node to
                // log in to here, and tests/e2e/hostBootstrap.test.ts runs the real check over SSH.
                program: () => runProgram({ checkHosts: assumeHosts("ready") }),
            });
            const { plain, secrets } = engineConfig(stack, previewOverrides(stack, listener.url));
            await engine.setConfig(plain, secrets);
            run = await engine.preview();
        });

        afterAll(async () => {
            listener?.close();
            await engine?.dispose();
        });

        test("plans with no error, and each secret is held as one", async () => {
            expect(run.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
            const config = await engine.getConfig();
            const secret = Object.keys(config).filter((k) => config[k]?.secret);
            expect(secret.sort()).toEqual([
                "ai-dualstack:proxmoxApiToken",
                "ai-dualstack:serviceSecrets",
                "ai-dualstack:sshPrivateKey",
            ]);
        });

        test("creates, per resource type, exactly what the offline plan registers, and warns as it does", async () => {
            const offline = await planStack(stack, { overrides: previewOverrides(stack, listener.url) });
            const components = new Set(offline.resources.filter((r) => !r.custom).map((r) => r.type));
            const expected = countByType(offline.resources.filter((r) => r.custom));
            expect(customCreates(run, components)).toEqual(expected);
            expect(expected["proxmoxve:index/vmLegacy:VmLegacy"]).toBe(1);
            const creates = run.steps.filter((s) => s.op === "create" && !isDefaultProvider(s.urn));
            expect(run.changeSummary).toEqual({ create: creates.length });

            const warnings = run.diagnostics.filter((d) => d.severity === "warning").map((d) => d.message.trim());
            // The same warnings; the engine reports them in the order they reach it.
            expect(warnings.filter((w) => !PLUGIN_VERSION_WARNING.test(w)).sort()).toEqual(
                offline.notes
                    .filter((n) => n.startsWith("warning: "))
                    .map((n) => n.slice("warning: ".length))
                    .sort(),
            );
        });

        test("dials nothing: the Proxmox API and the throughput gate are never contacted", () => {
            expect(listener.connections()).toBe(0);
        });
    },
);

const TOKEN = "e2e@pve!preview=11111111-2222-3333-4444-555555555555";

(toolchain ? describe.each : describe.skip.each)([
    {
        what: "an endpoint that is not https",
        args: { endpoint: "http://127.0.0.1:8006/", apiToken: TOKEN },
        message:
            "you must specify a secure endpoint for the Proxmox Virtual Environment API (valid: https://host:port/)",
    },
    {
        what: "an API token of the wrong form",
        args: { endpoint: "https://127.0.0.1:8006/", apiToken: "e2e@pve:not-a-token" },
        message: "the API token must be in the format 'USER@REALM!TOKENID=UUID'",
    },
])("the proxmoxve provider itself refuses $what", ({ args, message }) => {
    test("and the preview fails with the provider's own message, on the resource that needed it", async () => {
        const engine = await EngineStack.create({
            toolchain: toolchain!,
            stackName: "refused",
            program: () => {
                // Built directly, past the project's own config checks, which refuse both first.
                const provider = new proxmoxve.Provider("direct", { ...args, insecure: false });
                new proxmoxve.network.linux.Bridge("vmbr9", { nodeName: "pve1", name: "vmbr9" }, { provider });
            },
        });
        try {
            const failure = await engine.preview().then(
                () => undefined,
                (err: unknown) => err,
            );
            expect(failure).toBeInstanceOf(EngineError);
            const { run } = failure as EngineError;
            const errors = run.diagnostics.filter((d) => d.severity === "error");
            // The engine reports the failed Configure on the resource that needed the provider.
            const onBridge = errors.filter((d) => d.urn?.endsWith("::proxmoxve:network/linux/bridge:Bridge::vmbr9"));
            expect(onBridge.map((d) => d.message).join("\n")).toContain(message);
        } finally {
            await engine.dispose();
        }
    });
});

(toolchain ? describe : describe.skip).each(["private", "public"])(
    "the policy pack (policy/) under the real engine, in a preview of the %s stack",
    (stack) => {
        test("passes, reporting what the offline run (npm run policy) reports", async () => {
            const listener = await probe();
            // Each gate stays on its VM's address, which gpu-vm-has-throughput-gate checks.
            const overrides = previewOverrides(stack, listener.url, { gates: false });
            const engine = await EngineStack.create({
                toolchain: toolchain!,
                stackName: stack,
                program: () => runProgram({ checkHosts: assumeHosts("ready") }),
            });
            try {
                const { plain, secrets } = engineConfig(stack, overrides);
                await engine.setConfig(plain, secrets);
                // The project's own pack, TypeScript, loaded by the engine's analyzer.
                const run = await engine.preview({ policyPacks: [POLICY_PACK] });
                const offline = await planStack(stack, { overrides });
                const expected = await runPolicies(policies, offline.resources);
                expect(expected.filter((v) => v.level === "mandatory")).toEqual([]);
                // The engine prefixes each message with the policy's description.
                const described = new Map(policies.map((p) => [p.name, p.description]));
                // A stack-wide violation is reported at the stack's URN by the engine, at none offline.
                const key = (policy: string, urn: string | undefined, message: string) =>
                    `${policy} ${urn?.includes("::pulumi:pulumi:Stack::") ? "" : (urn ?? "")} ${message.trim()}`;
                expect(run.policyViolations.map((v) => key(v.policyName, v.urn, v.message)).sort()).toEqual(
                    expected.map((v) => key(v.policy, v.urn, `${described.get(v.policy) ?? ""}\n${v.message}`)).sort(),
                );
                expect(run.policyViolations.filter((v) => v.enforcementLevel !== "advisory")).toEqual([]);
                expect(listener.connections()).toBe(0);
            } finally {
                listener.close();
                await engine.dispose();
            }
        });
    },
);

// Each mandatory rule broken by a program change no config rule sees, under the engine and offline alike:
// tests/e2e/policyRules.test.ts.
