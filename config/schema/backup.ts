// Backups (Pulumi.<stack>.yaml, key `backup`): where this environment's guest backups go (a Proxmox
// Backup Server datastore of its own), which guests its vzdump job covers and for how long, the
// application dumps and snapshots, and, in the stack whose container runs PBS, the server itself.

import { z } from "zod";
import { d, environment, hostAddress, label, secretRef } from "./fields";

/** A systemd calendar event, as Proxmox and PBS take them ("*-*-* 02:30", "daily", "sat 04:00"). */
const calendar = z
    .string()
    .regex(/^[A-Za-z0-9*:,./~ -]{1,64}$/, 'must be a systemd calendar event such as "*-*-* 02:30" or "sat 04:00"');

const secretName = (description: string) =>
    secretRef(description, z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, "must name a serviceSecrets key"));

const fingerprint = z
    .string()
    .regex(
        /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/,
        'must be the PBS certificate\'s SHA-256 fingerprint, "aa:bb:…" (32 lowercase hex pairs; `proxmox-backup-manager cert info`)',
    );

const keep = (value: number, text: string) => z.number().int().min(0).default(value).meta(d(text));

export const RetentionSchema = z
    .strictObject({
        keepDaily: keep(7, "Daily backups kept."),
        keepWeekly: keep(4, "Weekly backups kept."),
        keepMonthly: keep(6, "Monthly backups kept."),
    })
    .prefault({})
    .meta(d("How long guest backups are kept (PBS prune: keep-daily, keep-weekly, keep-monthly)."));

export const DatastoreSchema = z.strictObject({
    storage: z.string().meta(d("The mirror (nodes.<node>.mirrors key) the datastore's own volume is carved from.")),
    sizeGiB: z.number().int().positive().meta(d("Size of the datastore's volume (a mount point of the container).")),
    passwordSecret: secretName(
        "The serviceSecrets name holding the password of the environment's PBS user (<env>-backup@pbs).",
    ),
    retention: RetentionSchema,
});

export const OffsiteSchema = z.strictObject({
    host: hostAddress.meta(d("Address of the off-site Proxmox Backup Server.")),
    fingerprint: fingerprint.meta(d("Its certificate's SHA-256 fingerprint.")),
    authId: z
        .string()
        .regex(/^[A-Za-z0-9._-]+@(pbs|pam)(![A-Za-z0-9._-]+)?$/, 'must be a PBS user or token such as "sync@pbs"')
        .meta(d("The user (or token) this server pushes as, with DatastoreBackup on the remote datastores.")),
    passwordSecret: secretName("The serviceSecrets name holding that user's password or token secret."),
    datastorePrefix: label
        .default("aids")
        .meta(d('Remote datastore of each environment: "<prefix>-<env>"; each must exist off-site.')),
    schedule: calendar.default("*-*-* 06:00").meta(d("When each datastore is pushed off-site.")),
});

export const BackupServerSchema = z
    .strictObject({
        container: label.meta(d("The containers key (role backup) that runs Proxmox Backup Server.")),
        version: z
            .string()
            .regex(/^\d+\.\d+\.\d+-\d+$/, 'must be a Debian package version such as "3.4.1-1"')
            .default("3.4.1-1")
            .meta(
                d(
                    "The oldest proxmox-backup-server accepted: older or missing, the repository's newest is installed; never held, so Proxmox's security updates keep coming.",
                ),
            ),
        datastores: z
            .partialRecord(environment, DatastoreSchema)
            .refine((s) => Object.keys(s).length > 0, "declare at least one datastore")
            .meta(d("One datastore per environment served, on its own volume, with its own user and namespace.")),
        gcSchedule: calendar.default("*-*-* 03:30").meta(d("Garbage collection of each datastore.")),
        pruneSchedule: calendar.default("*-*-* 03:00").meta(d("Prune job of each datastore (the retention above).")),
        verifySchedule: calendar.default("sat 04:00").meta(d("Verify job of each datastore (new snapshots only).")),
        offsite: OffsiteSchema.optional().meta(
            d("An off-site PBS each datastore is pushed to (sync job, push direction); docs/backup.md."),
        ),
    })
    .meta(d("Only in the stack whose container runs PBS: the server, its datastores and their jobs."));

const BackupObject = z
    .strictObject({
        server: BackupServerSchema.optional(),
        pbs: z
            .strictObject({
                server: hostAddress.meta(d("Address of the PBS that holds this environment's datastore.")),
                fingerprint: fingerprint
                    .optional()
                    .meta(d("Its certificate's fingerprint; only needed when backup.server is not in this stack.")),
                passwordSecret: secretName(
                    "The serviceSecrets name holding the password of this environment's PBS user.",
                ),
            })
            .meta(
                d(
                    "This environment's PBS storage entry (pbs-<env>): datastore, namespace and user <env>, <env>, <env>-backup@pbs.",
                ),
            ),
        schedule: calendar.default("*-*-* 02:30").meta(d("When the environment's vzdump job runs (snapshot mode).")),
        retention: RetentionSchema,
        guests: z
            .array(label)
            .default([])
            .meta(d("The guests (vms or containers keys) the environment's backup job covers.")),
        dumps: z
            .strictObject({
                schedule: calendar.default("*-*-* 01:30").meta(d("pg_dump and the vector-store snapshots run then.")),
                keepDays: z
                    .number()
                    .int()
                    .positive()
                    .default(7)
                    .meta(d("Days of dumps and snapshots kept on the guest.")),
            })
            .prefault({})
            .meta(
                d(
                    "Application backups written inside the guests (pg_dump, Qdrant and ChromaDB snapshots), so the guest backup carries them.",
                ),
            ),
    })
    .meta(d("Backups of this environment; docs/backup.md."));

/** Pulumi.yaml's default for the key is `{}`: the same as leaving backups out. */
export const BackupSchema = z.preprocess(
    (v) => (v !== null && typeof v === "object" && Object.keys(v).length === 0 ? undefined : v),
    BackupObject.optional(),
);

export type BackupConfig = z.infer<typeof BackupObject>;
export type BackupServerConfig = z.infer<typeof BackupServerSchema>;

/** On a guest: `backup: false` opts it out of the backup rule, with `backupReason` saying why. */
export const guestBackupFields = {
    backup: z
        .literal(false, { message: "may only be false (a guest is backed up by listing it in backup.guests)" })
        .optional()
        .meta(d("false: this guest holds nothing worth backing up; backupReason must say why.")),
    backupReason: z.string().min(1).optional().meta(d("Why the guest is not backed up (with backup: false).")),
};
