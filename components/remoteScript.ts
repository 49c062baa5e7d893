// What the guest set-ups share: a root login over SSH, an idempotent script run on stdin (create and
// update alike, so a changed script runs again), held secret when it carries one, and described for the
// plan. The secrets a script carries come in as Outputs, each from the stack (config/resolve/secrets.ts).

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { describe } from "./describe";

/** Root SSH to a guest or node; the guest may still be booting, so dialling is retried. */
export function rootSsh(host: string, privateKey: pulumi.Input<string>): command.types.input.remote.ConnectionArgs {
    return { host, user: "root", privateKey, dialErrorLimit: 30 };
}

export interface ScriptCommandArgs {
    readonly connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
    /** The whole script, piped to `bash -s`. */
    readonly stdin: pulumi.Input<string>;
    /** Keep the script a Pulumi secret (it carries a password or key); default true. */
    readonly secret?: boolean;
    /** What undoes the set-up when the resource is deleted; by default nothing runs. */
    readonly delete?: pulumi.Input<string>;
}

/** A script run over SSH by `bash -s` on create and update, with `description` as its line in the plan. */
export function scriptCommand(
    name: string,
    description: string,
    args: ScriptCommandArgs,
    opts: pulumi.CustomResourceOptions,
): command.remote.Command {
    return describe(
        description,
        new command.remote.Command(
            name,
            {
                connection: args.connection,
                create: "bash -s",
                update: "bash -s",
                stdin: args.secret === false ? args.stdin : pulumi.secret(args.stdin),
                logging: "stdoutAndStderr",
                ...(args.delete === undefined ? {} : { delete: args.delete }),
            },
            opts,
        ),
    );
}

/** The set-up a ScriptSetup runs: its plan line, where, what (stdin), and what must run first. */
export interface SetupScript extends ScriptCommandArgs {
    /** What the component set up, in one plain line (no secret): its `description` output. */
    readonly description: string;
    /** The command's line in the plan. */
    readonly planLine: string;
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** A component that sets a guest up with one script over SSH (`setup`) and says what it set up. */
export abstract class ScriptSetup extends pulumi.ComponentResource {
    public readonly setup: command.remote.Command;
    public readonly description: string;

    protected constructor(type: string, name: string, script: SetupScript, opts?: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
        const { description, planLine, dependsOn, ...args } = script;
        this.description = description;
        this.setup = scriptCommand(`${name}-setup`, planLine, args, { parent: this, dependsOn });
    }
}
