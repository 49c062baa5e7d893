// Offline plan speed: each stack, and generated configs of 16, 32 and 64 guests, beside a bare
// mock-mode program that registers the same resources flat. Prints figures; asserts nothing.
// Targets: the plan costs at most 1.5x the bare program, and time grows no worse than linearly.

import * as pulumi from "@pulumi/pulumi";
import { RecordedResource, runOffline } from "../testing/mockRuntime";
import { planStack } from "../testing/planStack";
import { generateConfig } from "./generate";

const USAGE = `Usage: npm run bench:plan [-- --runs N] [--sizes A,B,...]

Times the offline plan (median of N runs, default 7, after one warm-up) of the private and public
stacks and of generated configs with 16, 32 and 64 guests (--sizes: other counts, at least two,
ascending; .ci/run's smoke run uses small ones), each beside a bare mock-mode program
registering the same resources (same types and inputs, flat, plain values: no config, validation
or Outputs), and prints the ratios against the targets
(plan <= 1.5x bare; growth no worse than linear). It never fails on a figure.`;

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<number> {
    await fn();
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
        const start = process.hrtime.bigint();
        await fn();
        samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return median(samples);
}

/**
 * The baseline: the very registrations the plan made (same types, same inputs, as many
 * components), flat and with plain values: no config, no validation, no Outputs between them.
 */
async function bare(recorded: readonly RecordedResource[]): Promise<void> {
    const run = await runOffline({
        stack: "bench",
        config: {},
        program: () => {
            recorded.forEach((r, i) => {
                if (r.type === "pulumi:pulumi:Stack") return;
                if (!r.custom) {
                    new pulumi.ComponentResource(r.type, `bare-${i}`);
                    return;
                }
                // The class the plan built it from: SDK classes and the gate's dynamic resource alike.
                const cls = r.resource.constructor as new (name: string, args: unknown) => pulumi.Resource;
                // A dynamic resource's recorded inputs include its serialized provider, which it adds itself.
                const { __provider: _serialized, ...inputs } = r.inputs;
                new cls(`bare-${i}`, inputs);
            });
        },
    });
    if (run.error) throw run.error;
}

interface Row {
    name: string;
    resources: number;
    planMs: number;
    bareMs: number;
}

async function main(argv: string[]): Promise<void> {
    if (argv.includes("-h") || argv.includes("--help")) {
        console.log(USAGE);
        return;
    }
    const runsAt = argv.indexOf("--runs");
    const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 7;
    if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a whole number");
    const sizesAt = argv.indexOf("--sizes");
    const sizes = sizesAt >= 0 ? (argv[sizesAt + 1] ?? "").split(",").map(Number) : [16, 32, 64];
    if (sizes.length < 2 || sizes.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= (sizes[i - 1] ?? 0))))
        throw new Error("--sizes takes at least two ascending whole numbers of guests, e.g. 16,32,64");

    const scenarios: { name: string; stack: string; overrides?: Record<string, unknown> }[] = [
        { name: "private stack", stack: "private" },
        { name: "public stack", stack: "public" },
        ...sizes.map((n) => ({
            name: `generated, ${n} guests`,
            stack: "private",
            overrides: generateConfig(n).overrides,
        })),
    ];
    const rows: Row[] = [];
    for (const s of scenarios) {
        const planned = await planStack(s.stack, s.overrides ? { overrides: s.overrides } : {});
        const count = planned.resources.length;
        const planMs = await time(runs, () => planStack(s.stack, s.overrides ? { overrides: s.overrides } : {}));
        const bareMs = await time(runs, () => bare(planned.resources));
        rows.push({ name: s.name, resources: count, planMs, bareMs });
        console.log(
            `${s.name.padEnd(22)} ${String(count).padStart(4)} resources  plan ${planMs.toFixed(1).padStart(7)} ms  bare ${bareMs.toFixed(1).padStart(7)} ms  ratio ${(planMs / bareMs).toFixed(2)}x (target <= 1.50x)  ${(planMs / count).toFixed(2)} ms/resource`,
        );
    }
    const gen = rows.filter((r) => r.name.startsWith("generated"));
    const first = gen[0] as Row;
    const last = gen[gen.length - 1] as Row;
    const growth = last.planMs / last.resources / (first.planMs / first.resources);
    console.log(
        `growth ${first.name} -> ${last.name}: ${(last.resources / first.resources).toFixed(2)}x resources, ${(last.planMs / first.planMs).toFixed(2)}x time; time per resource ${growth.toFixed(2)}x (linear = 1.00x or below)`,
    );
    const bareGrowth = last.bareMs / last.resources / (first.bareMs / first.resources);
    console.log(
        `the bare program over the same range: time per resource ${bareGrowth.toFixed(2)}x (what the mock runtime itself adds as the stack grows)`,
    );
    console.log(`node ${process.version}, ${runs} runs each, median after one warm-up`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
