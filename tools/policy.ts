// The policy pack, offline: runs the real program for a stack in the mock runtime (as `npm run
// plan` does), then every policy of policy/ against what it registered. No engine, no host.

import * as fs from "fs";
import type { PolicyPackConfig } from "@pulumi/policy";
import { ConfigError } from "../config/load";
import { policies } from "../policy/policies";
import { planStack } from "../testing/planStack";
import { runPolicies, Violation, WaiverError } from "../testing/policyRun";
import { StackFileError } from "../testing/stackFiles";
import { formatArg, parseCli, requireStacks, runMain, stackArg, UsageError } from "./cli";

const USAGE = `Usage: npm run policy -- <stack> [<stack>] [--format text|json] [--config FILE]

Runs the policy pack (policy/, docs/policy.md) offline against a stack (private or public): the
program runs in Pulumi's mock runtime as in \`npm run plan\`, and every policy sees each resource's
inputs as the engine's analyzer would. No Proxmox host, no Pulumi CLI.

Options:
  --format text   one line per violation: level, policy, URN, message and fix (default)
  --format json   the violations as a JSON array
  --config FILE   a pack config, as \`pulumi preview --policy-pack-config FILE\` takes it; it may
                  waive (enforcementLevel: disabled) an advisory policy, never a mandatory one
  -h, --help      this text

Exit status: 0 no mandatory violation; 1 a mandatory violation, or a config the plan rejected;
2 bad usage.

Examples:
  npm run policy -- private
  npm run policy -- public --format json`;

export interface PolicyOptions {
    stacks: string[];
    format: "text" | "json";
    config?: string;
}

export function parseArgs(argv: readonly string[]): PolicyOptions | "help" {
    const stacks: string[] = [];
    let format: PolicyOptions["format"] = "text";
    let config: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (arg === "-h" || arg === "--help") return "help";
        if (arg === "--config") {
            config = argv[++i];
            if (!config) throw new UsageError("--config takes a file");
        } else if (arg === "--format" || arg.startsWith("--format=")) {
            const { value, used } = formatArg(arg, argv[i + 1], ["text", "json"] as const);
            format = value;
            i += used;
        } else {
            stackArg(arg, stacks);
        }
    }
    return { stacks: requireStacks(stacks), format, ...(config ? { config } : {}) };
}

export function renderViolations(stack: string, violations: readonly Violation[]): string[] {
    const mandatory = violations.filter((v) => v.level === "mandatory").length;
    return [
        `ai-dualstack policy pack, stack "${stack}": ${policies.length} policies, ${mandatory} mandatory and ${violations.length - mandatory} advisory violations`,
        ...violations.flatMap((v) => [
            `  ${v.level} ${v.policy}: ${v.message}`,
            `    at ${v.urn ?? "the stack"}`,
            ...(v.fix ? [`    fix: ${v.fix}`] : []),
        ]),
    ];
}

function readConfig(file: string | undefined): PolicyPackConfig {
    if (file === undefined) return {};
    return JSON.parse(fs.readFileSync(file, "utf8")) as PolicyPackConfig;
}

export async function main(argv: readonly string[]): Promise<number> {
    const opts = parseCli("policy", USAGE, () => parseArgs(argv));
    if (typeof opts === "number") return opts;
    const config = readConfig(opts.config);
    const all: (Violation & { stack: string })[] = [];
    for (const stack of opts.stacks) {
        let violations: Violation[];
        try {
            violations = await runPolicies(policies, (await planStack(stack)).resources, config);
        } catch (err) {
            if (err instanceof ConfigError || err instanceof StackFileError || err instanceof WaiverError) {
                console.error(err.message);
                return 1;
            }
            throw err;
        }
        if (opts.format === "text") console.log(renderViolations(stack, violations).join("\n"));
        all.push(...violations.map((v) => ({ stack, ...v })));
    }
    if (opts.format === "json") console.log(JSON.stringify(all, null, 2));
    return all.some((v) => v.level === "mandatory") ? 1 : 0;
}

if (require.main === module) runMain(main);
