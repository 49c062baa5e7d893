// The replace guard's "restart by hand" notice, on preview steps as `pulumi preview --json` prints
// them (the e2e suite runs the guard on the real engine's preview). Proxmox applies to a running
// VM only what its `hotplug` option lists, by default network, disk and usb (qemu-server
// src/PVE/QemuServer.pm); the rest waits for the next start, which the provider never makes for a
// GPU VM (rebootAfterUpdate: false). So such a change is named, and does not block.

import * as os from "os";
import * as path from "path";
import { describeRestart, findProtectedChanges, findRestarts, main } from "../../tools/replaceGuard";

const VM_URN =
    "urn:pulumi:private::ai-dualstack::ai-dualstack:compute:GpuPassthroughVm$proxmoxve:index/vmLegacy:VmLegacy::private-ai";
const gpuVm = { type: "proxmoxve:index/vmLegacy:VmLegacy", inputs: { hostpcis: [{ mapping: "private-rtx5090" }] } };

const update = (detailedDiff: Record<string, { kind: string }>, oldState = gpuVm) => ({
    op: "update",
    urn: VM_URN,
    oldState,
    newState: { type: oldState.type },
    diffReasons: [...new Set(Object.keys(detailedDiff).map((k) => k.split(/[.[]/)[0] as string))],
    detailedDiff,
});

test("a GPU VM's CPU and memory change waits for a restart by hand, and does not block", () => {
    const preview = {
        steps: [
            update({
                "cpu.cores": { kind: "update" },
                "memory.dedicated": { kind: "update" },
                tags: { kind: "update" },
            }),
        ],
    };
    expect(findProtectedChanges(preview)).toEqual([]);
    const restarts = findRestarts(preview);
    expect(restarts).toEqual([{ urn: VM_URN, name: "private-ai", properties: ["cpu", "memory"] }]);
    expect(describeRestart(restarts[0] as (typeof restarts)[number])).toBe(
        `RESTART BY HAND: the preview changes cpu, memory of GPU VM private-ai, which Proxmox applies only at its next start; the provider never restarts a GPU VM (rebootAfterUpdate: false), so shut it down and start it yourself when the card may be reset (docs/deploying.md, "Restarting a GPU VM") (${VM_URN})`,
    );
});

test("hotplugged changes (network, disk, tags) and VMs without a GPU need no notice", () => {
    const hotplug = update({ "networkDevices[0].queues": { kind: "update" }, "disks[0].size": { kind: "update" } });
    expect(findRestarts({ steps: [hotplug] })).toEqual([]);
    const plainVm = update({ "cpu.cores": { kind: "update" } }, { ...gpuVm, inputs: { hostpcis: [] } });
    expect(findRestarts({ steps: [plainVm] })).toEqual([]);
});

test("a preview file that is not there is one line with the command that writes it, not a stack trace", async () => {
    const missing = path.join(os.tmpdir(), "aids-no-such-preview.json");
    const error = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
        expect(await main([missing])).toBe(1);
        expect(error.mock.calls).toEqual([
            [
                `replace-guard: ${missing}: no such file; write it first with \`pulumi preview --stack <stack> --json > ${missing}\``,
            ],
        ]);
    } finally {
        error.mockRestore();
    }
});
