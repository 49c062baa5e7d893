// GPU passthrough: GPUs pass by PCI mapping only, to a VM built for passthrough, each mapping to
// exactly one VM, and every GPU VM proven by a throughput gate.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { PolicyResource, validateResourceOfType } from "@pulumi/policy";
import { absentNulls, coveredStackPolicy, hostOf, resourcePolicy } from "./util";

/**
 * The gate's type token. ModelThroughput is a dynamic resource: it has no SDK class (and no
 * `__pulumiType` for `isType`) that the pack could import without importing the project's
 * provider code, which the pack must not depend on; so stack policies match its token.
 */
export const MODEL_THROUGHPUT_TYPE = "pulumi-nodejs:dynamic/ollama:ModelThroughput";

export const gpuByMapping = resourcePolicy(
    "gpu-by-mapping",
    "A VM receives a PCI device by cluster mapping, never by raw PCI id.",
    "Declare a hardware mapping for the GPU and set hostpcis[].mapping to its name, not hostpcis[].id.",
    validateResourceOfType(proxmoxve.VmLegacy, (vm, _args, reportViolation) => {
        for (const [i, h] of (vm.hostpcis ?? []).entries()) {
            if (h.id !== undefined) reportViolation(`hostpcis[${i}] passes raw PCI id ${h.id}`);
            else if (h.mapping === undefined) reportViolation(`hostpcis[${i}] names no mapping`);
        }
    }),
);

export const gpuVmMachine = resourcePolicy(
    "gpu-vm-machine",
    "A VM with a passed-through device uses machine q35, OVMF firmware and PCIe passthrough.",
    "Set machine: q35, bios: ovmf (with an efiDisk) and hostpcis[].pcie: true.",
    validateResourceOfType(proxmoxve.VmLegacy, (vm, _args, reportViolation) => {
        const hostpcis = vm.hostpcis ?? [];
        if (hostpcis.length === 0) return;
        // The provider's defaults (its VmLegacy docs) are machine pc and bios seabios: left out, neither is right.
        if (vm.machine !== "q35")
            reportViolation(`machine is ${vm.machine ?? "unset (the provider's default pc)"}, not q35`);
        if (vm.bios !== "ovmf")
            reportViolation(`bios is ${vm.bios ?? "unset (the provider's default seabios)"}, not ovmf`);
        for (const [i, h] of hostpcis.entries()) {
            if (h.pcie === false || (h.pcie === undefined && h.device !== undefined)) {
                reportViolation(`hostpcis[${i}] is not passed as PCIe (pcie: true)`);
            }
        }
    }),
);

export const gpuVmNoProviderRestart = resourcePolicy(
    "gpu-vm-no-provider-restart",
    "A VM with a passed-through device is never restarted by the provider: not after it is created (reboot), nor to apply an update (rebootAfterUpdate: false).",
    "Leave reboot unset (or false) and set rebootAfterUpdate: false on the VM; a change Proxmox applies only at the next start waits for a restart by hand (docs/deploying.md).",
    // The provider's rebootAfterUpdate defaults to true and its reboot (after creation) to false (its VmLegacy
    // docs): either restarts the VM, and a card that fails its reset (the RTX 5090's known FLR problem) can then
    // hang until the host is power-cycled.
    validateResourceOfType(proxmoxve.VmLegacy, (vm, _args, reportViolation) => {
        if ((vm.hostpcis ?? []).length === 0) return;
        if (vm.reboot === true) reportViolation("reboot is true: the provider restarts the VM after creating it");
        if (vm.rebootAfterUpdate !== false) {
            reportViolation(`rebootAfterUpdate is ${String(vm.rebootAfterUpdate ?? "unset (true)")}, not false`);
        }
    }),
);

/** The VMs that pass through a device, with the mappings they use. */
function gpuVms(resources: PolicyResource[]) {
    return resources.flatMap((r) => {
        const vm = absentNulls(r.asType(proxmoxve.VmLegacy));
        const hostpcis = vm?.hostpcis ?? [];
        return vm && hostpcis.length > 0 ? [{ resource: r, vm, mappings: hostpcis.map((h) => h.mapping) }] : [];
    });
}

export const mappingOneVm = coveredStackPolicy(
    "pci-mapping-one-vm",
    "Every PCI mapping is used by exactly one VM, and every mapping a VM uses is declared.",
    "Give each GPU to exactly one VM and declare every mapping a VM uses.",
    (resources, reportViolation, couldNotCheck) => {
        const vms = gpuVms(resources);
        const mappings = resources.flatMap((r) => {
            const m = absentNulls(r.asType(proxmoxve.hardware.mapping.Pci));
            return m ? [{ resource: r, name: m.name }] : [];
        });
        for (const m of mappings) {
            if (m.name === undefined) {
                couldNotCheck(`${m.resource.name} has no name, so no VM can be matched to it`, m.resource.urn);
                continue;
            }
            const users = vms.filter((v) => v.mappings.includes(m.name)).map((v) => v.resource.name);
            if (users.length !== 1) {
                reportViolation(
                    `mapping ${m.name} is used by ${users.length} VMs${users.length ? `: ${users.join(", ")}` : ""}`,
                    m.resource.urn,
                );
            }
        }
        for (const v of vms) {
            for (const name of v.mappings) {
                if (name !== undefined && !mappings.some((m) => m.name === name)) {
                    reportViolation(
                        `${v.resource.name} uses mapping ${name}, which this stack does not declare`,
                        v.resource.urn,
                    );
                }
            }
        }
    },
);

export const gpuVmGated = coveredStackPolicy(
    "gpu-vm-has-throughput-gate",
    "Every GPU VM has a ModelThroughput gate whose endpoint is one of the VM's addresses.",
    "Give the VM a model with a throughput gate in the stack config (docs/throughput-gate.md).",
    (resources, reportViolation, couldNotCheck) => {
        const gates = resources.filter((r) => r.type === MODEL_THROUGHPUT_TYPE);
        const hosts = gates.map((r) => {
            const endpoint = absentNulls(r.props)["endpoint"] as unknown;
            return typeof endpoint === "string"
                ? URL.canParse(endpoint)
                    ? new URL(endpoint).hostname
                    : undefined
                : undefined;
        });
        const unread = gates.filter((_, i) => hosts[i] === undefined);
        if (unread.length > 0) {
            // A gate whose endpoint is not a URL could be any VM's.
            for (const g of unread) couldNotCheck(`${g.name}: its endpoint is not a URL`, g.urn);
            return;
        }
        for (const v of gpuVms(resources)) {
            const addresses = (v.vm.initialization?.ipConfigs ?? []).map((c) => hostOf(c.ipv4?.address));
            if (addresses.length === 0 || addresses.includes(undefined)) {
                couldNotCheck(
                    `${v.resource.name} has no static IPv4 address to match a gate's endpoint`,
                    v.resource.urn,
                );
                continue;
            }
            if (!addresses.some((a) => hosts.includes(a))) {
                reportViolation(
                    `${v.resource.name} (${addresses.join(", ")}) has no ModelThroughput gate`,
                    v.resource.urn,
                );
            }
        }
    },
);

export const gpuPolicies = [gpuByMapping, gpuVmMachine, gpuVmNoProviderRestart, mappingOneVm, gpuVmGated];
