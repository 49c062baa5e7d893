// GPU containers: a card shared from the host's driver into an LXC. Allowed in either environment,
// but an internet-facing one is reported: it shares the host's kernel, where a VM keeps an escape
// inside its own.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { validateResourceOfType } from "@pulumi/policy";
import { environmentOfTags, resourcePolicy } from "./util";

export const publicGpuContainerSharesKernel = resourcePolicy(
    "public-gpu-container-shares-kernel",
    "An internet-facing GPU guest that is a container shares the Proxmox host's kernel and NVIDIA driver; a VM keeps an escape inside the VM.",
    "Keep the public GPU guest a VM (vms.<vm>.kind: vm and nodes.<node>.gpus.<gpu>.guest: vm), or accept the shared-kernel trade-off knowingly (docs/security.md).",
    validateResourceOfType(proxmoxve.ContainerLegacy, (ct, _args, reportViolation) => {
        const tags = ct.tags;
        if (!tags?.includes("gpu") || environmentOfTags(tags) !== "public") return;
        reportViolation(
            `CT ${ct.vmId ?? "(id unknown)"} is a public GPU container: a kernel or NVIDIA driver bug reachable from its services reaches the host, and from there the private environment`,
        );
    }),
    "advisory",
);

export const gpuContainerPolicies = [publicGpuContainerSharesKernel];
