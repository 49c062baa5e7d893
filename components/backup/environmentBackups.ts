// One environment's backups: its PBS storage entry (its own datastore, namespace and user), its
// vzdump job in snapshot mode over the guests the config names, and the application backups in the
// guests (a nightly pg_dump in each PostgreSQL container, vector-store snapshots in each VM), each a
// systemd timer installed over SSH that writes node-exporter textfile metrics.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { BackupModel } from "../../config/resolve/backup";
import { describe } from "../describe";
import { DUMP_ROOT, TimerJob, pgDumpJob, renderTimerSetup, vectorJob } from "./render";

export interface GuestTarget {
    /** Where the job's installer logs in: the guest's address and user (root, or sudo for a VM). */
    readonly address: string;
    readonly user: string;
    /** The guest, set up: the job installs after it. */
    readonly ready: pulumi.Input<pulumi.Resource>[];
}

export interface EnvironmentBackupsArgs {
    readonly backup: BackupModel;
    /** Nodes the storage entry is available on. */
    readonly nodes: readonly string[];
    readonly password: pulumi.Output<string>;
    /** The PBS certificate's fingerprint: from the server's setup, or the config. */
    readonly fingerprint: pulumi.Input<string | undefined>;
    /** Private key for the guests' root (containers) and login user (VMs). */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** The vector store's API key of each VM whose store has one, by VM name, held secret. */
    readonly vectorApiKeys: Readonly<Record<string, pulumi.Output<string>>>;
    /** Each PostgreSQL container and vector-store VM, by name. */
    readonly guests: Readonly<Record<string, GuestTarget>>;
    /** The PBS server's setup, when this stack runs it. */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class EnvironmentBackups extends pulumi.ComponentResource {
    public readonly storage: proxmoxve.storage.Pbs;
    public readonly job: proxmoxve.backup.Job;
    public readonly timers: command.remote.Command[] = [];

    constructor(name: string, args: EnvironmentBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:backup:EnvironmentBackups", name, {}, opts);
        const b = args.backup;
        this.storage = new proxmoxve.storage.Pbs(
            `${name}-pbs`,
            {
                resourceId: b.pbs.storageId,
                server: b.pbs.server,
                datastore: b.pbs.datastore,
                namespace: b.pbs.namespace,
                username: b.pbs.username,
                password: pulumi.secret(args.password),
                fingerprint: args.fingerprint,
                contents: ["backup"],
                // vzdump takes the job's prune-backups, else the storage's, else /etc/vzdump.conf's
                // (pve-manager PVE/VZDump.pm), and keep-all turns its prune off. The environment's
                // PBS user holds DatastoreBackup only, which cannot prune (see the job below).
                backups: { keepAll: true },
                nodes: [...args.nodes],
            },
            { parent: this, dependsOn: args.dependsOn ?? [], additionalSecretOutputs: ["password"] },
        );
        this.job = new proxmoxve.backup.Job(
            `${name}-job`,
            {
                resourceId: b.pbs.jobId,
                schedule: b.schedule,
                storage: this.storage.resourceId,
                vmids: b.guests.map((g) => String(g.vmid)),
                mode: "snapshot",
                compress: "zstd",
                // No prune options: vzdump would prune on PBS as the environment's user, whose
                // DatastoreBackup role holds Datastore.Backup only, while PBS prunes only with
                // Datastore.Modify, or Datastore.Prune as the group's owner (proxmox-backup
                // src/api2/admin/datastore.rs, prune; roles in src/config/acl.rs). The job would fail
                // every night. The PBS prune jobs keep the retention, and the narrow user keeps a
                // compromised node from erasing its own backups.
                notesTemplate: "{{guestname}}",
                mailnotification: "failure",
                repeatMissed: true,
                enabled: true,
            },
            { parent: this },
        );
        for (const pg of b.postgres) this.timer(pg.name, pgDumpJob(pg.name, b.dumps), args);
        // A VM without a login target is not running its services yet (its host waits for a reboot).
        for (const vm of b.vectorVms.filter((v) => args.guests[v.name] !== undefined)) {
            const key = args.vectorApiKeys[vm.name];
            const job = (k: string) => vectorJob(vm.name, vm.stores, b.dumps, k, vm.textfileDirectory);
            this.timer(vm.name, job(""), args, key?.apply(job));
        }
        this.registerOutputs({ storage: this.storage.resourceId, job: this.job.resourceId });
    }

    /**
     * Installs one job's timer in a guest (a VM's login user runs it through sudo). `shown` is the
     * job as the plan describes it; `withSecret`, when given, the same job carrying its secret.
     */
    private timer(
        guest: string,
        shown: TimerJob,
        args: EnvironmentBackupsArgs,
        withSecret?: pulumi.Output<TimerJob>,
    ): void {
        const target = args.guests[guest];
        if (!target) throw new Error(`internal: no login for ${guest}'s backup timer`);
        const run = target.user === "root" ? "bash -s" : "sudo bash -s";
        const held = withSecret ? " (script held secret: it carries the API key)" : "";
        this.timers.push(
            describe(
                `${shown.job} timer (${shown.schedule}): ${shown.description} into ${DUMP_ROOT}, kept ${args.backup.dumps.keepDays} days, textfile metrics${held}`,
                new command.remote.Command(
                    `${guest}-backup-timer`,
                    {
                        connection: {
                            host: target.address,
                            user: target.user,
                            privateKey: args.sshPrivateKey,
                            dialErrorLimit: 30,
                        },
                        create: run,
                        update: run,
                        stdin: withSecret ? pulumi.secret(withSecret.apply(renderTimerSetup)) : renderTimerSetup(shown),
                        logging: "stdoutAndStderr",
                    },
                    { parent: this, dependsOn: target.ready },
                ),
            ),
        );
    }
}
