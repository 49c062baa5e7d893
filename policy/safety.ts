// Safety: what holds data is protected, containers are unprivileged, guest firewalls default to
// DROP, public containers publish only the web ports (and the proxy's trusted entrypoint), and backups (advisory until they exist).

import * as docker from "@pulumi/docker";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { validateResourceOfType } from "@pulumi/policy";
import { absentNulls, coveredStackPolicy, ENVIRONMENTS, resourcePolicy, stackPolicy } from "./util";

/** The container tags whose guests hold data that a replace would lose. */
export const STATEFUL_TAGS = ["postgresql", "backup"];

export const protectStateful = resourcePolicy(
    "protect-stateful",
    "GPU VMs, ZFS pools and the PostgreSQL and backup containers are protected against deletion.",
    "Pass { protect: true } to the resource (the component's protect option).",
    [
        validateResourceOfType(proxmoxve.VmLegacy, (vm, args, reportViolation) => {
            if ((vm.hostpcis ?? []).length > 0 && !args.opts.protect) reportViolation("GPU VM is not protected");
        }),
        validateResourceOfType(proxmoxve.node.disk.Zfs, (pool, args, reportViolation) => {
            if (!args.opts.protect) reportViolation(`ZFS pool ${pool.name ?? "?"} is not protected`);
        }),
        validateResourceOfType(proxmoxve.ContainerLegacy, (lxc, args, reportViolation) => {
            const tag = lxc.tags?.find((t) => STATEFUL_TAGS.includes(t));
            if (tag !== undefined && !args.opts.protect) reportViolation(`${tag} container is not protected`);
        }),
    ],
);

export const lxcUnprivileged = resourcePolicy(
    "lxc-unprivileged",
    "Every LXC container runs unprivileged.",
    "Set unprivileged: true; a privileged container's root is the host's root.",
    validateResourceOfType(proxmoxve.ContainerLegacy, (lxc, _args, reportViolation) => {
        // The provider's unprivileged defaults to false (its ContainerLegacy docs): left out, the container is privileged.
        if (lxc.unprivileged !== true) {
            reportViolation(
                `container is privileged (unprivileged: ${String(lxc.unprivileged ?? "unset, the provider's default false")})`,
            );
        }
    }),
);

export const guestFirewallDefaultDrop = resourcePolicy(
    "guest-firewall-default-drop",
    "Every guest firewall is enabled and drops inbound traffic that no rule allows.",
    "Set enabled: true and inputPolicy: DROP in the guest's firewall options.",
    validateResourceOfType(proxmoxve.firewall.OptionsLegacy, (o, _args, reportViolation) => {
        if (o.vmId === undefined && o.containerId === undefined) return; // not a guest's options
        // The provider's enabled defaults to false (its OptionsLegacy docs): left out, the firewall is off.
        if (o.enabled !== true) {
            reportViolation(
                o.enabled === false
                    ? "the guest firewall is disabled"
                    : "the guest firewall is disabled (enabled unset: the provider's default false)",
            );
        }
        if (o.inputPolicy !== undefined && o.inputPolicy !== "DROP")
            reportViolation(`inputPolicy is ${o.inputPolicy}, not DROP`);
    }),
);

export const guestNicFirewall = resourcePolicy(
    "guest-nic-firewall",
    "Every guest network interface has the Proxmox firewall switched on.",
    "Set firewall: true on the interface; without it the guest's rules do not apply.",
    [
        validateResourceOfType(proxmoxve.VmLegacy, (vm, _args, reportViolation) => {
            for (const [i, d] of (vm.networkDevices ?? []).entries()) {
                if (d.firewall !== true) reportViolation(`networkDevices[${i}] does not set firewall: true`);
            }
        }),
        validateResourceOfType(proxmoxve.ContainerLegacy, (lxc, _args, reportViolation) => {
            for (const [i, n] of (lxc.networkInterfaces ?? []).entries()) {
                if (n.firewall !== true) reportViolation(`networkInterfaces[${i}] does not set firewall: true`);
            }
        }),
    ],
);

/**
 * The ports a public container may publish: the proxy's web ports, and its trusted entrypoint
 * (config's TRUSTED_ENTRYPOINT_PORT; the pack imports nothing of the program), which the VM's
 * firewall opens to the trusted networks and the monitoring host alone.
 */
export const PUBLIC_PORTS = [80, 443, 8480];

export const publicPublishesWebOnly = coveredStackPolicy(
    "public-publishes-web-only",
    "A container on a public docker network publishes only ports 80 and 443, and the proxy's trusted entrypoint 8480.",
    "Reach the service through the proxy; remove the service's ports in the stack config.",
    (resources, reportViolation, couldNotCheck) => {
        // A docker network carries the label ai-dualstack.environment; a container is public when it joins one.
        const networks = new Map(
            resources.flatMap((r) => {
                const n = absentNulls(r.asType(docker.Network));
                const env = n?.labels?.find((l) => l.label === "ai-dualstack.environment")?.value;
                return n?.name !== undefined ? [[n.name, env] as const] : [];
            }),
        );
        for (const r of resources) {
            const c = absentNulls(r.asType(docker.Container));
            if (!c) continue;
            if (Object.keys(r.props).length === 0) {
                // A stack policy reads planned values, and a preview plans none for a provider it cannot configure
                // yet: the program's docker provider dials a VM whose address is unknown until the VM exists.
                couldNotCheck(
                    `${r.name}: the preview planned no values for it (its provider is configured at up)`,
                    r.urn,
                );
                continue;
            }
            const joined = (c.networksAdvanced ?? []).map((n) => n.name);
            const foreign = joined.filter((n) => !networks.has(n));
            if (foreign.length > 0) {
                couldNotCheck(
                    `${c.name ?? r.name} joins ${foreign.join(", ")}, which this stack does not declare`,
                    r.urn,
                );
            }
            if (!joined.some((n) => networks.get(n) === "public")) continue;
            for (const p of c.ports ?? []) {
                const external = p.external ?? p.internal;
                if (external !== undefined && !PUBLIC_PORTS.includes(external)) {
                    reportViolation(`${c.name ?? r.name} publishes port ${external} on a public network`, r.urn);
                }
            }
        }
    },
);

/** Guests whose loss loses data: the PostgreSQL containers and the GPU VMs (their volumes). */
const BACKED_UP_TAGS = ["postgresql", "gpu"];

export const backupsScheduled = stackPolicy(
    "backups-scheduled",
    "Every data-holding guest (PostgreSQL containers, GPU VMs) is in a scheduled vzdump backup job of its stack.",
    "Add the guest to backup.guests in Pulumi.<stack>.yaml, or set backup: false with a backupReason and waive this rule (docs/backup.md, docs/policy.md).",
    (args, reportViolation) => {
        const covered = new Set(
            args.resources.flatMap((r) => (absentNulls(r.asType(proxmoxve.backup.Job))?.vmids ?? []).map(String)),
        );
        const uncovered = args.resources.flatMap((r) => {
            const guest = absentNulls(r.asType(proxmoxve.ContainerLegacy) ?? r.asType(proxmoxve.VmLegacy));
            const tags = guest?.tags ?? [];
            const stateful =
                tags.some((t) => BACKED_UP_TAGS.includes(t)) &&
                tags.some((t) => (ENVIRONMENTS as readonly string[]).includes(t));
            const id = guest?.vmId;
            return stateful && (id === undefined || !covered.has(String(id))) ? [`${r.name} (${String(id)})`] : [];
        });
        if (uncovered.length > 0) reportViolation(`no backup job covers ${uncovered.sort().join(", ")}`);
    },
    // Advisory: a guest that opts out with `backup: false` (and its reason, config/rules/backup.ts)
    // is reported here, and the stack can waive the rule for it.
    "advisory",
);

export const safetyPolicies = [
    protectStateful,
    lxcUnprivileged,
    guestFirewallDefaultDrop,
    guestNicFirewall,
    publicPublishesWebOnly,
    backupsScheduled,
];
