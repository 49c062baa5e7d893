// Proxmox Backup Server in the backup container: installed and configured over root SSH by an
// idempotent, pinned script (scripts/pbs-setup.sh) that prints the certificate's fingerprint, which
// the environment's PBS storage entry then pins.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { BackupServerModel, pbsNames } from "../../config/resolve/backup";
import { rootSsh, scriptCommand } from "../remoteScript";
import { describePbsSetup, renderPbsSetup } from "./render";

const FINGERPRINT = /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/;

/**
 * The fingerprint line the setup prints last; undefined while unknown (preview, the plan) or when the set-up has
 * not run (`pulumi up --target` elsewhere leaves its stdout undefined).
 */
export function parseFingerprint(stdout: string | undefined): string | undefined {
    const last = (stdout ?? "").trim().split("\n").pop()?.trim().toLowerCase() ?? "";
    return FINGERPRINT.test(last) ? last : undefined;
}

/** The mount points the PBS container gets: one volume per datastore, left out of its own backup. */
export function datastoreMountPoints(
    server: BackupServerModel,
    storageIds: Readonly<Record<string, pulumi.Input<string>>>,
): { volume: pulumi.Input<string>; size: string; path: string; backup: boolean }[] {
    return server.datastores.map((d) => ({
        volume: storageIds[d.storage] ?? d.storage,
        size: `${d.sizeGiB}G`,
        path: pbsNames(d.environment).path,
        backup: false,
    }));
}

export interface BackupServerArgs {
    readonly server: BackupServerModel;
    /** Private key whose public half is in the container's sshPublicKeys (root). */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** The password of each datastore's user, by environment. */
    readonly passwords: Readonly<Record<string, pulumi.Output<string>>>;
    readonly offsitePassword?: pulumi.Output<string>;
    /** The container, started. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class BackupServer extends pulumi.ComponentResource {
    public readonly setup: command.remote.Command;
    /** The PBS certificate's SHA-256 fingerprint, once the setup ran. */
    public readonly fingerprint: pulumi.Output<string | undefined>;
    public readonly description: string;

    constructor(name: string, args: BackupServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:backup:BackupServer", name, {}, opts);
        const server = args.server;
        const envs = server.datastores.map((d) => d.environment);
        const missing = envs.filter((e) => args.passwords[e] === undefined);
        if (missing.length > 0) throw new Error(`${name}: no password for the datastore(s) ${missing.join(", ")}`);
        const stdin = pulumi
            .all([pulumi.all(envs.map((e) => args.passwords[e] as pulumi.Output<string>)), args.offsitePassword ?? ""])
            .apply(([pws, off]) =>
                renderPbsSetup(server, Object.fromEntries(envs.map((e, i) => [e, pws[i] as string])), off),
            );
        this.description = describePbsSetup(server);
        this.setup = scriptCommand(
            `${name}-setup`,
            this.description,
            { connection: rootSsh(server.address, args.sshPrivateKey), stdin },
            { parent: this, dependsOn: args.dependsOn },
        );
        this.fingerprint = this.setup.stdout.apply(parseFingerprint);
        this.registerOutputs({ fingerprint: this.fingerprint, description: this.description });
    }
}
