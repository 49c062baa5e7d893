// The continuous throughput probe of one GPU VM: the probe program, its spec and a systemd timer,
// installed over SSH by an idempotent script (components/probe/scripts), removed again when the
// probe or the VM's gate goes. It measures each gated model as the deploy-time gate does and
// writes node-exporter textfile metrics (docs/throughput-gate.md, "Continuous probe").

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ThroughputProbeConfig } from "../../config/schema";
import { describe } from "../describe";
import { ProbeSpec, describeProbe, renderInstallScript, renderRemoveScript } from "./spec";

export interface ThroughputProbeArgs {
    /** What the probe measures, rendered from the VM's resolved gate settings (spec.probeSpec). */
    readonly spec: ProbeSpec;
    readonly probe: ThroughputProbeConfig;
    /** The VM's address and login user (cloudInit.user, passwordless sudo). */
    readonly address: string;
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
        this.description = describeProbe(args.spec, args.probe);
        this.install = describe(
            `installs the ${this.description}`,
            new command.remote.Command(
                `${name}-install`,
                {
                    connection: {
                        host: args.address,
                        user: args.sshUser,
                        privateKey: args.sshPrivateKey,
                        dialErrorLimit: 30,
                    },
                    create: "sudo -n bash -s",
                    update: "sudo -n bash -s",
                    stdin: renderInstallScript(args.spec, args.probe),
                    delete: sudoScript(renderRemoveScript(args.probe)),
                    logging: "stdoutAndStderr",
                },
                { parent: this, dependsOn: args.dependsOn },
            ),
        );
        this.registerOutputs({ description: this.description });
    }
}
