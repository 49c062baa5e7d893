// StorageMirror in mock mode: a ZFS mirror with ashift and compression, registered as storage.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { StorageMirror } from "../../../components/storage/storageMirror";
import { MirrorModel } from "../../../config/resolve";
import { stackModel } from "../../helpers/config";
import { one, ofType, record } from "../../helpers/pulumi";

const mirror = stackModel("private").nodes[0]?.mirrors.find((m) => m.storageId === "tank-private") as MirrorModel;

test("a new mirror: the pool (protected), then the storage entry on it", async () => {
    const resources = await record(() => new StorageMirror("private-tank-private", { nodeName: "pve1", mirror }));
    const pool = one(resources, proxmoxve.node.disk.Zfs);
    expect(pool.inputs).toMatchObject({
        nodeName: "pve1",
        name: "tankpriv",
        raidlevel: "mirror",
        ashift: 12,
        compression: "lz4",
        addStorage: false,
        cleanupDisks: false,
    });
    expect(pool.inputs["devices"]).toEqual(mirror.disks);
    expect(pool.protect).toBe(true);

    const storage = one(resources, proxmoxve.storage.Zfspool);
    expect(storage.inputs).toMatchObject({
        resourceId: "tank-private",
        zfsPool: "tankpriv",
        nodes: ["pve1"],
        contents: ["images", "rootdir"],
    });
    expect(storage.dependencies).toContain(pool.urn);
});

test("an existing pool is only registered, never created", async () => {
    const existing: MirrorModel = { ...mirror, storageId: "local-zfs", disks: undefined, pool: "rpool/data" };
    const resources = await record(
        () => new StorageMirror("private-local-zfs", { nodeName: "pve1", mirror: existing }),
    );
    expect(ofType(resources, proxmoxve.node.disk.Zfs)).toHaveLength(0);
    expect(one(resources, proxmoxve.storage.Zfspool).inputs).toMatchObject({ zfsPool: "rpool/data" });
});
