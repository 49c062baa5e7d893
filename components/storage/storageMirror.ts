// One NVMe ZFS mirror, owned by one environment, registered as Proxmox storage for its guests.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { MirrorModel } from "../../config/resolve";

export interface StorageMirrorArgs {
    readonly nodeName: string;
    /** The pool (new, or existing when it lists no disks) and the Proxmox storage id guests name. */
    readonly mirror: MirrorModel;
}

export class StorageMirror extends pulumi.ComponentResource {
    /** The storage id, resolved once the storage entry exists: guests depend on it through this. */
    public readonly storageId: pulumi.Output<string>;
    /** The pool, or undefined when the mirror already existed and is only registered. */
    public readonly pool?: proxmoxve.node.disk.Zfs;
    public readonly storage: proxmoxve.storage.Zfspool;

    constructor(name: string, args: StorageMirrorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:storage:StorageMirror", name, {}, opts);
        const { mirror } = args;

        if (mirror.disks) {
            // Proxmox registers storage itself only at create time and only with defaults;
            // the Zfspool below keeps contents and node restriction under management instead.
            this.pool = new proxmoxve.node.disk.Zfs(
                `${name}-pool`,
                {
                    nodeName: args.nodeName,
                    name: mirror.pool,
                    raidlevel: "mirror",
                    devices: mirror.disks,
                    ashift: mirror.ashift,
                    compression: mirror.compression,
                    addStorage: false,
                    cleanupDisks: false,
                    cleanupConfig: false,
                },
                // Wiping a pool of guest disks by a config typo is not recoverable.
                { parent: this, protect: true },
            );
        }

        this.storage = new proxmoxve.storage.Zfspool(
            `${name}-storage`,
            {
                resourceId: mirror.storageId,
                zfsPool: mirror.pool,
                nodes: [args.nodeName],
                contents: ["images", "rootdir"],
                thinProvision: true,
            },
            { parent: this, dependsOn: this.pool ? [this.pool] : [] },
        );
        this.storageId = this.storage.resourceId;

        this.registerOutputs({ storageId: this.storageId });
    }
}
