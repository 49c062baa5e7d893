// The post-deploy gate of one GPU: a ModelThroughput per model, measured one after another (two
// models timed at once on one card would slow each other), and independent of every other GPU's
// gate, so the gates of different GPUs run in parallel during `pulumi up`.

import * as pulumi from "@pulumi/pulumi";
import { GateSettings } from "../../config/schema";
import { ModelGateConfig } from "../../config/schema";
import { modelSlug } from "../../lib/modelRef";
import { GpuUnderTest } from "../../providers/ollama/measure";
import { ModelThroughput } from "../../providers/ollama/modelThroughput";

export const OLLAMA_PORT = 11434;

export interface ThroughputGateArgs {
    /** The VM whose Ollama is measured (for names and messages). */
    vmName: string;
    gpu: GpuUnderTest;
    /** Ollama's URL as seen from where `pulumi up` runs. */
    endpoint: pulumi.Input<string>;
    /** What serves the endpoint (the Ollama container's id): a replaced container measures again. */
    server?: pulumi.Input<string>;
    models: readonly ModelGateConfig[];
    /** How every model is measured, defaults applied (config/resolve/vm.ts). */
    settings: GateSettings;
    /** What must exist first: the started VM and its workload (Ollama, and the proxy in front of it). */
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** The figures a stack exports per model: the requirement, and what `pulumi up` measured. */
export interface ModelFigures {
    model: string;
    gpu: string;
    minTokensPerSecond: number;
    /** The share of the roofline required as well (minEfficiency), when set. */
    minEfficiency?: number;
    tokensPerSecond: pulumi.Output<number>;
    ceilingTokensPerSecond: pulumi.Output<number>;
    efficiencyPercent: pulumi.Output<number>;
    residency: pulumi.Output<string>;
}

/** The default endpoint: Ollama's port on the VM's own address. */
export function defaultEndpoint(ip: string): string {
    return `http://${ip}:${OLLAMA_PORT}`;
}

export class ThroughputGate extends pulumi.ComponentResource {
    public readonly models: Record<string, ModelThroughput> = {};
    public readonly figures: ModelFigures[];

    constructor(name: string, args: ThroughputGateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:gate:ThroughputGate", name, {}, opts);
        let previous: pulumi.Resource | undefined;
        for (const m of args.models) {
            // sizeGB serves the plan's fit check only; the provider measures what Ollama reports.
            const { name: model, sizeGB: _sizeGB, ...perModel } = m;
            const gate: ModelThroughput = new ModelThroughput(
                `${name}-${modelSlug(model)}`,
                {
                    // Every setting under its own name, spread: a new one in the schema reaches the
                    // provider with no edit here. The endpoint the stack resolved wins over the config's.
                    ...args.settings,
                    ...perModel,
                    endpoint: args.endpoint,
                    ...(args.server ? { server: args.server } : {}),
                    model,
                    gpu: args.gpu,
                },
                {
                    parent: this,
                    // One model at a time on this card; nothing ties it to another card's gate.
                    dependsOn: previous ? [...args.dependsOn, previous] : args.dependsOn,
                },
            );
            this.models[m.name] = gate;
            previous = gate;
        }
        this.figures = args.models.map((m) => {
            const g = this.models[m.name] as ModelThroughput;
            return {
                model: m.name,
                gpu: args.gpu.name,
                minTokensPerSecond: m.minTokensPerSecond,
                ...(m.minEfficiency !== undefined ? { minEfficiency: m.minEfficiency } : {}),
                tokensPerSecond: g.tokensPerSecond,
                ceilingTokensPerSecond: g.ceilingTokensPerSecond,
                efficiencyPercent: g.efficiencyPercent,
                residency: g.residency,
            };
        });
        this.registerOutputs({ figures: this.figures });
    }
}
