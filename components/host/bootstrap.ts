// What the host bootstrap does on one node for one environment, the scripts that do it (apply,
// remove) and check it (read-only: the host check runs it before anything is registered). Plain
// functions: plan from config, scripts from plan.

import { NodeModel } from "../../config/resolve";
import { EnvironmentName, ProxmoxConfig } from "../../config/schema";
import { arcMaxGiB } from "../../config/sizing";
import { cardSupport } from "../../lib/nvidiaDrivers";
import { loadScript, renderScript } from "../../lib/scripts";

export interface GpuCheck {
    address: string;
    vendorDeviceId: string;
    /** The board's subsystem vendor:device id, which Proxmox compares at every VM start. */
    subsystemId: string;
    iommuGroup: number;
}

/** A card the host's NVIDIA driver drives (guest: container), with the oldest branch that drives it. */
export interface HostDriverCard {
    address: string;
    name: string;
    model: string;
    minBranch: number;
}

/** The host's NVIDIA driver, host-wide: present when a card of the node goes to a container. */
export interface HostDriverPlan {
    /** The exact version (nodes.<node>.nvidiaDriver.version); the packages are pinned to it. */
    version: string;
    /** The Debian suite of the node (proxmox.majorVersion): its non-free archive holds the packages. */
    suite: "bookworm" | "trixie";
    /** Every card on the node that it drives, whichever environment owns it. */
    cards: HostDriverCard[];
}

export interface BootstrapPlan {
    environment: EnvironmentName;
    /** Host-wide: computed from the shared config, so both stacks write the same. */
    kernelArgs: string[];
    /** Host-wide: drivers blacklisted so the host never grabs a passed-through card. */
    blacklist: string[];
    /** Host-wide: drivers that load only after vfio-pci (softdep), so it claims the VMs' cards first. */
    softdeps: string[];
    /**
     * Host-wide: the vendor:device ids of every GPU on the node that goes to a VM, whichever
     * environment owns it, so that one reboot binds both stacks' cards to vfio-pci; a container's
     * card stays on the host's driver, and so do its functions.
     */
    vfioIds: string[];
    /** This environment's VM cards: identity, IOMMU group and vfio-pci binding, checked before it is ready. */
    gpuChecks: GpuCheck[];
    /** This environment's container cards: bound to the host's nvidia driver, checked before it is ready. */
    hostDriverChecks: HostDriverCard[];
    /** The host's NVIDIA driver, when a card of the node goes to a container. */
    hostDriver?: HostDriverPlan;
    /** Every card's functions, whose identity is checked before their ids are written anywhere. */
    gpuIdentities: GpuCheck[];
    zfsArcMaxBytes?: number;
    datastore: string;
    datacenterFirewall: boolean;
    /**
     * Networks that keep GUI/SSH access to the node once the datacenter firewall is on: proxmox.managementSources,
     * then the environment's CI/CD runners (runnerSources).
     */
    managementSources: string[];
    /** proxmox.majorVersion: the node's `pveversion` must have this major. */
    pveMajor: number;
    /** The ZFS ARC maximum the config's memory budget counts (sizing.ts arcMaxGiB), in MiB. */
    arcMaxMiB: number;
    /** This environment's mirrors that register an existing pool or dataset: it must exist. */
    zfsExisting: string[];
    /** Each disk of a mirror this environment creates, with its pool: no other pool may hold it. */
    zfsNew: { pool: string; disk: string }[];
    /** Tests only: every path the scripts touch is prefixed with it (a sandbox, never the real /etc). */
    sandboxRoot?: string;
}

/** Disk imports from the `import` content type arrived in Proxmox VE 8.4. */
export const MIN_PVE_RELEASE = "8.4";

const DRIVERS_BY_VENDOR: Record<string, string[]> = {
    "10de": ["nouveau", "nvidia", "nvidiafb", "nvidia_drm", "nvidia_modeset"],
    "1002": ["amdgpu", "radeon"],
};

/** The kernel arguments a node needs: IOMMU on in passthrough mode, and the hugepage pool. */
export function kernelArgs(node: NodeModel): string[] {
    const args = [node.cpuVendor === "intel" ? "intel_iommu=on" : "amd_iommu=on", "iommu=pt"];
    const hugeGiB = node.hugepagesGiB;
    if (hugeGiB > 0) {
        const size = node.memory.hugepageSize;
        const pages = size === "1G" ? hugeGiB : Math.ceil(hugeGiB * 512);
        args.push(`default_hugepagesz=${size}`, `hugepagesz=${size}`, `hugepages=${pages}`);
    }
    return args;
}

/** A card's functions as the check sees them: address, vendor:device and subsystem ids, IOMMU group. */
function functionsOf(gpus: NodeModel["gpus"]): GpuCheck[] {
    return gpus.flatMap((g) => [
        {
            address: g.pciAddress,
            vendorDeviceId: g.vendorDeviceId,
            subsystemId: g.subsystemId,
            iommuGroup: g.iommuGroup,
        },
        ...g.functions.map((f) => ({
            address: f.pciAddress,
            vendorDeviceId: f.vendorDeviceId,
            subsystemId: f.subsystemId,
            iommuGroup: g.iommuGroup,
        })),
    ]);
}

/** The drivers the host keeps loaded for its own cards: NVIDIA's (its framebuffer stub and nouveau stay off). */
const HOST_DRIVEN = new Set(["nvidia", "nvidia_drm", "nvidia_modeset"]);

/** The node's cards that the host's driver drives, with what each needs of it (lib/nvidiaDrivers.ts). */
function hostDriverCards(gpus: NodeModel["gpus"]): HostDriverCard[] {
    return gpus
        .filter((g) => g.guest === "container")
        .map((g) => ({
            address: g.pciAddress,
            name: g.name,
            model: g.model,
            // The config rules refused a card the table does not know.
            minBranch: cardSupport(g.vendorDeviceId)?.minBranch ?? 0,
        }));
}

/**
 * The CI/CD runners' addresses (containers with role cicd on this node's environment), each a /32 for the
 * management IP set: pve-firewall admits the node's 22 and 8006 only from that set and the cluster's
 * local_network (pve-firewall src/PVE/Firewall.pm, the management rules), and a runner on a guest bridge is
 * in neither, so without it the preview's host check and API calls are dropped.
 */
export function runnerSources(
    containers: readonly { readonly role: string; readonly network: { readonly address?: { readonly ip: string } } }[],
): string[] {
    return containers.flatMap((c) => (c.role === "cicd" && c.network.address ? [`${c.network.address.ip}/32`] : []));
}

export function bootstrapPlan(
    node: NodeModel,
    environment: EnvironmentName,
    proxmox: ProxmoxConfig,
    runners: readonly string[] = [],
): BootstrapPlan {
    const all = functionsOf(node.allGpus);
    const toVms = node.allGpus.filter((g) => g.guest === "vm");
    const vendors = [...new Set(node.allGpus.map((g) => g.vendorDeviceId.slice(0, 4)))].sort();
    const drivers = vendors.flatMap((v) => DRIVERS_BY_VENDOR[v] ?? []);
    const hostCards = hostDriverCards(node.allGpus);
    const hostDriver =
        hostCards.length > 0 && node.nvidiaDriver
            ? {
                  version: node.nvidiaDriver.version,
                  suite: proxmox.majorVersion === 9 ? ("trixie" as const) : ("bookworm" as const),
                  cards: hostCards,
              }
            : undefined;
    return {
        environment,
        kernelArgs: kernelArgs(node),
        blacklist: hostDriver ? drivers.filter((d) => !HOST_DRIVEN.has(d)) : drivers,
        softdeps: drivers,
        vfioIds: [...new Set(functionsOf(toVms).map((f) => f.vendorDeviceId))].sort(),
        gpuChecks: functionsOf(node.gpus.filter((g) => g.guest === "vm")),
        hostDriverChecks: hostDriverCards(node.gpus),
        ...(hostDriver ? { hostDriver } : {}),
        gpuIdentities: all,
        zfsArcMaxBytes:
            node.memory.zfsArcMaxGiB === undefined ? undefined : Math.round(node.memory.zfsArcMaxGiB * 1024 ** 3),
        datastore: proxmox.filesDatastore,
        datacenterFirewall: proxmox.enableDatacenterFirewall,
        managementSources: [...new Set([...proxmox.managementSources, ...runners])],
        pveMajor: proxmox.majorVersion,
        arcMaxMiB: Math.floor(arcMaxGiB(node.memory) * 1024),
        zfsExisting: node.mirrors.filter((m) => !m.disks).map((m) => m.pool),
        zfsNew: node.mirrors.flatMap((m) => (m.disks ?? []).map((disk) => ({ pool: m.pool, disk }))),
    };
}

const BOOTSTRAP = loadScript(__dirname, "host-bootstrap.sh");
const CHECK = loadScript(__dirname, "host-check.sh");

const render = (plan: BootstrapPlan, body: string, vars: Record<string, string>) =>
    renderScript(
        "Rendered by ai-dualstack (components/host/bootstrap.ts). Do not edit on the host.",
        { ...vars, ...(plan.sandboxRoot !== undefined ? { AIDS_ROOT: plan.sandboxRoot } : {}) },
        body,
    );

/** The bootstrap: writes the settings (`apply`) or drops this environment's vfio fragment (`remove`). */
export function renderBootstrapScript(plan: BootstrapPlan, mode: "apply" | "remove" = "apply"): string {
    return render(plan, BOOTSTRAP, {
        AIDS_ENV: plan.environment,
        AIDS_MODE: mode,
        AIDS_KERNEL_ARGS: plan.kernelArgs.join(" "),
        AIDS_VFIO_IDS: plan.vfioIds.join(","),
        AIDS_BLACKLIST: plan.blacklist.join(" "),
        AIDS_SOFTDEPS: plan.softdeps.join(" "),
        AIDS_NVIDIA_VERSION: plan.hostDriver?.version ?? "",
        AIDS_DEBIAN_SUITE: plan.hostDriver?.suite ?? "",
        AIDS_ZFS_ARC_MAX: plan.zfsArcMaxBytes === undefined ? "" : String(plan.zfsArcMaxBytes),
        AIDS_DATASTORE: plan.datastore,
        AIDS_DC_FIREWALL: plan.datacenterFirewall ? "1" : "0",
        AIDS_MGMT_SOURCES: plan.managementSources.join(" "),
    });
}

/** The read-only check: the facts a reboot changes (reported) and those it cannot (fatal). */
export function renderCheckScript(plan: BootstrapPlan): string {
    return render(plan, CHECK, {
        AIDS_ENV: plan.environment,
        AIDS_KERNEL_ARGS: plan.kernelArgs.join(" "),
        AIDS_GPU_CHECKS: plan.gpuChecks.map((c) => `${c.address}=${c.vendorDeviceId}@${c.iommuGroup}`).join(" "),
        AIDS_GPU_IDENTITIES: plan.gpuIdentities
            .map((c) => `${c.address}=${c.vendorDeviceId}/${c.subsystemId}@${c.iommuGroup}`)
            .join(" "),
        AIDS_HOST_DRIVER_CARDS: plan.hostDriverChecks.map((c) => `${c.address}=${c.name}@${c.minBranch}`).join(" "),
        AIDS_NVIDIA_VERSION: plan.hostDriver?.version ?? "",
        AIDS_NVIDIA_CARDS: (plan.hostDriver?.cards ?? []).map((c) => `${c.name}@${c.minBranch}`).join(" "),
        AIDS_ARC_MAX_MIB: String(plan.arcMaxMiB),
        AIDS_ARC_SET: plan.zfsArcMaxBytes === undefined ? "0" : "1",
        AIDS_MIN_PVE: MIN_PVE_RELEASE,
        AIDS_PVE_MAJOR: String(plan.pveMajor),
        AIDS_DC_FIREWALL: plan.datacenterFirewall ? "1" : "0",
        AIDS_MGMT_SOURCES: plan.managementSources.join(" "),
        AIDS_ZFS_EXISTING: plan.zfsExisting.join(" "),
        AIDS_ZFS_NEW: plan.zfsNew.map((z) => `${z.pool}=${z.disk}`).join(" "),
    });
}

export interface RebootStatus {
    required: boolean;
    reasons: string[];
}

/** Reads the script's last verdict line. */
export function parseRebootStatus(stdout: string): RebootStatus {
    const lines = stdout.split("\n").filter((l) => l.includes("reboot-required="));
    const last = lines[lines.length - 1];
    if (!last) return { required: false, reasons: [] };
    const match = /reboot-required=(yes|no)(?: \((.*)\))?/.exec(last);
    if (!match || match[1] === "no") return { required: false, reasons: [] };
    return { required: true, reasons: (match[2] ?? "").split("; ").filter((r) => r.length > 0) };
}

/** The plan's summary line: what the bootstrap writes. */
export function describeBootstrap(plan: BootstrapPlan): string {
    const host = plan.hostDriver;
    return [
        `kernel: ${plan.kernelArgs.join(" ")}`,
        `vfio-pci ids: ${plan.vfioIds.join(",") || "none"}`,
        `blacklist: ${plan.blacklist.join(" ") || "none"}`,
        ...(host
            ? [
                  `host nvidia driver ${host.version} (Debian ${host.suite} non-free, after vfio-pci) for ${host.cards.map((c) => `${c.name} ${c.address}`).join(", ")}`,
              ]
            : []),
    ].join(" | ");
}

/** The plan's summary line of the read-only check. */
export function describeCheck(plan: BootstrapPlan): string {
    const cards = plan.gpuChecks.map((c) => `${c.address}=${c.vendorDeviceId}@${c.iommuGroup}`).join(" ");
    const host = plan.hostDriverChecks.map((c) => `${c.name} ${c.address}`).join(", ");
    return `read-only host check on every up: kernel args live, cards ${cards || "none"}, vfio-pci bound${host ? `; ${host} on the host's nvidia ${plan.hostDriver?.version ?? ""}` : ""}`;
}
