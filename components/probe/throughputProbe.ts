// The continuous throughput probe of one GPU VM: the probe program, its spec and a systemd timer,
// installed over SSH by an idempotent script (components/probe/scripts), removed again when the
// probe or the VM's gate goes. It measures each gated model as the deploy-time gate does, compares
// it with the rate the gate required, and writes node-exporter textfile metrics
// (docs/throughput-gate.md, "Continuous probe").

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { describe } from "../describe";
import {
    GateRequirement,
    ProbeSpecArgs,
    describeProbe,
    probeSpec,
    renderInstallScript,
    renderRemoveScript,
} from "./spec";

export interface ThroughputProbeArgs {
    /** What the probe measures: the VM's resolved gate settings, its models and its Ollama (spec.probeSpec). */
    readonly spec: ProbeSpecArgs;
    /**
     * What the VM's gate recorded for each model (by name), from its outputs: the spec carries the
     * rate the gate required, so the install's stdin is unknown in a preview where the gate measures again.
     */
    readonly gated: pulumi.Input<Record<string, GateRequirement>>;
    /** The VM's login user (cloudInit.user, passwordless sudo); the spec's address is where it is reached. */
    readonly sshUser: string;
    /** The guest admin's private key (its public half in the VM's cloudInit.sshPublicKeys). */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** First boot done and the models gated: the workload's readiness check, and the VM's gate. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** `sudo` runs a script sent as text, so the removal needs no stdin (which only create and update get). */
function sudoScript(script: string): string {
    return `printf %s ${Buffer.from(script, "utf8").toString("base64")} | base64 -d | sudo -n bash`;
}

export class ThroughputProbe extends pulumi.ComponentResource {
    public readonly install: command.remote.Command;
    /** The plan's line: models, thresholds, interval, where Ollama is reached, where metrics go. */
    public readonly description: string;

    constructor(name: string, args: ThroughputProbeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:probe:ThroughputProbe", name, {}, opts);
        const probe = args.spec.probe;
        this.description = describeProbe(args.spec);
        this.install = describe(
            `installs the ${this.description}`,
            new command.remote.Command(
                `${name}-install`,
                {
                    connection: {
                        host: args.spec.address,
                        user: args.sshUser,
                        privateKey: args.sshPrivateKey,
                        dialErrorLimit: 30,
                    },
                    create: "sudo -n bash -s",
                    update: "sudo -n bash -s",
                    stdin: pulumi
                        .output(args.gated)
                        .apply((gated) => renderInstallScript(probeSpec(args.spec, gated), probe)),
                    delete: sudoScript(renderRemoveScript(probe)),
                    logging: "stdoutAndStderr",
                },
                { parent: this, dependsOn: args.dependsOn },
            ),
        );
        this.registerOutputs({ description: this.description });
    }
}
