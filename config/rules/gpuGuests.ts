// Rules for the GPU guests' kinds: a card goes to a VM (vfio-pci) or to a container (the host's
// NVIDIA driver), the guest agrees with its card, and the host's driver drives every card it shares.

import { cardSupport, driverBranch } from "../../lib/nvidiaDrivers";
import { GpuGuestKind, ParsedConfig, VmConfig } from "../schema";
import { Add } from "./issues";

/** A GPU guest's kind: its own `kind`, else its card's `guest`; a guest without a GPU is a VM. */
export function guestKind(cfg: ParsedConfig, vm: Pick<VmConfig, "kind" | "gpu" | "node">): GpuGuestKind {
    if (vm.kind !== undefined) return vm.kind;
    const gpu = vm.gpu === undefined ? undefined : cfg.nodes[vm.node]?.gpus[vm.gpu];
    return gpu?.guest ?? "vm";
}

/** Shared facts (Pulumi.yaml), the same verdict for either stack: the host's driver and the vfio ids. */
export function checkGpuDrivers(cfg: ParsedConfig, add: Add): void {
    for (const [nodeName, node] of Object.entries(cfg.nodes)) {
        const at = `nodes.${nodeName}`;
        const gpus = Object.entries(node.gpus);
        const vfioIds = new Map<string, string>();
        for (const [gpuName, gpu] of gpus.filter(([, g]) => g.guest === "vm")) {
            for (const id of [gpu.vendorDeviceId, ...gpu.functions.map((f) => f.vendorDeviceId)]) {
                vfioIds.set(id, gpuName);
            }
        }
        for (const [gpuName, gpu] of gpus.filter(([, g]) => g.guest === "container")) {
            const gpuAt = `${at}.gpus.${gpuName}`;
            if (!gpu.vendorDeviceId.startsWith("10de:")) {
                add(
                    `${gpuAt}.guest`,
                    `${gpuName} (${gpu.model}) is no NVIDIA card, and only the host's NVIDIA driver is shared into a container here; set guest: vm`,
                );
                continue;
            }
            // vfio-pci claims cards by vendor:device id, so a twin of a VM's card would be claimed too.
            const ids = [gpu.vendorDeviceId, ...gpu.functions.map((f) => f.vendorDeviceId)];
            const twin = ids.find((id) => vfioIds.has(id));
            if (twin !== undefined) {
                add(
                    `${gpuAt}.guest`,
                    `${gpuName} shares the id ${twin} with ${vfioIds.get(twin)}, which goes to a VM: vfio-pci claims cards by id, so it would take ${gpuName} too; give both cards the same guest`,
                );
                continue;
            }
            const driver = node.nvidiaDriver;
            if (!driver) {
                add(
                    `${at}.nvidiaDriver`,
                    `${gpuName} has guest: container, which the host's NVIDIA driver drives; set nodes.${nodeName}.nvidiaDriver.version to the exact version the node's package manager installs (such as "550.163.01", Debian 13's non-free driver), or set guest: vm`,
                );
                continue;
            }
            const support = cardSupport(gpu.vendorDeviceId);
            if (!support) {
                add(
                    `${gpuAt}.vendorDeviceId`,
                    `this project does not know which NVIDIA driver branch first drives ${gpu.vendorDeviceId} (${gpu.model}), so it cannot promise the host's ${driver.version} does; give the card to a VM (guest: vm), or add it to lib/nvidiaDrivers.ts with the release note that names it`,
                );
                continue;
            }
            const branch = driverBranch(driver.version);
            if (branch < support.minBranch) {
                add(
                    `${at}.nvidiaDriver.version`,
                    `${driver.version} (branch ${branch}) does not drive ${gpuName} (${gpu.model}, ${support.generation}: branch ${support.minBranch} or newer); install a newer driver on the node and set its version here, or give the card to a VM (guest: vm)`,
                );
            }
        }
    }
}

/** This stack's GPU guests: a container has a card, and agrees with the card's `guest`. */
export function checkGpuGuests(cfg: ParsedConfig, add: Add): void {
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        if (vm.kind === undefined) continue;
        const at = `vms.${vmName}.kind`;
        const gpu = vm.gpu === undefined ? undefined : cfg.nodes[vm.node]?.gpus[vm.gpu];
        if (vm.kind === "container" && vm.gpu === undefined) {
            add(
                at,
                "a GPU container needs gpu (a card with guest: container); a container without a GPU is a service container, under containers",
            );
        } else if (gpu && gpu.guest !== vm.kind) {
            const why =
                gpu.guest === "vm"
                    ? "vfio-pci claims the card at boot, for a VM"
                    : "the host's NVIDIA driver holds the card, for a container";
            add(
                at,
                `"${vm.kind}", but nodes.${vm.node}.gpus.${vm.gpu}.guest is "${gpu.guest}" (${why}); set guest: ${vm.kind} in Pulumi.yaml, which both stacks read (one reboot moves the card), or kind: ${gpu.guest} here`,
            );
        }
    }
}
