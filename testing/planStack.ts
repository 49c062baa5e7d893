// Runs the real program for one stack under the mock runtime, against that stack's files: what the
// offline plan prints, and what the tests and the bench assert and time. No host is contacted: the
// host check is answered by a stand-in (every node ready, or every node waiting for a reboot).

import type { ResourceTransformation, Unwrap } from "@pulumi/pulumi";
import { LoadedStack } from "../config/load";
import { runProgram } from "../stacks";
import type { EnvironmentOutputs } from "../stacks/outputs";
import { RecordedResource, runOffline } from "./mockRuntime";
import { readStackConfig, StackFileOptions } from "./stackFiles";

export interface PlannedStack {
    stack: string;
    notes: string[];
    resources: RecordedResource[];
    outputs: Unwrap<EnvironmentOutputs> | undefined;
}

/** The host state the plan assumes, as the host check would report it. */
export type AssumedHosts = "ready" | "reboot-pending";

/** A stand-in for the host check: every node in the assumed state. */
export function assumeHosts(state: AssumedHosts) {
    const reasons = state === "ready" ? [] : ["the host bootstrap's settings are not live until the node reboots"];
    return (stack: LoadedStack) =>
        Promise.resolve(Object.fromEntries(stack.nodes.map((n) => [n.name, { required: state !== "ready", reasons }])));
}

/** Runs index.ts's program for one stack under the mock runtime. */
export async function planStack(
    stack: string,
    opts: StackFileOptions & { hosts?: AssumedHosts; transform?: ResourceTransformation } = {},
): Promise<PlannedStack> {
    const files = readStackConfig(stack, opts);
    const hosts = opts.hosts ?? "ready";
    const run = await runOffline({
        stack,
        config: files.config,
        secretKeys: files.secretKeys,
        ...(opts.transform ? { transform: opts.transform } : {}),
        program: () =>
            runProgram({
                checkHosts: assumeHosts(hosts),
                offline: true,
                ...(opts.projectDir ? { projectDir: opts.projectDir } : {}),
            }),
    });
    if (run.error !== undefined) throw run.error;
    const note =
        hosts === "ready"
            ? "the hosts are assumed ready (no reboot pending): the offline plan contacts no host"
            : "every host is assumed to wait for its reboot: the VMs' workloads and gates wait too";
    return {
        stack,
        notes: [...files.notes, note, ...run.warnings.map((w) => `warning: ${w}`)],
        resources: run.resources,
        outputs: run.outputs,
    };
}
