// Isolation between the environments: each guest on its own environment's bridge, public guests
// unable to reach out except through their rules, and no management port open to the world.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { PolicyResource, validateResourceOfType } from "@pulumi/policy";
import {
    absentNulls,
    CouldNotCheck,
    coveredStackPolicy,
    Environment,
    environmentOfComment,
    environmentOfTags,
    isWideSource,
    portListIncludes,
    resourcePolicy,
} from "./util";

/** A guest's bridges and environment, VM or container alike. */
export interface GuestView {
    resource: PolicyResource;
    kind: "vm" | "lxc";
    id: number | undefined;
    node: string | undefined;
    tags: string[] | undefined;
    bridges: (string | undefined)[];
}

/** The VMs and containers of a stack, read the same way (a null field as absent). */
export function guestsOf(resources: PolicyResource[]): GuestView[] {
    const out: GuestView[] = [];
    for (const r of resources) {
        const vm = absentNulls(r.asType(proxmoxve.VmLegacy));
        if (vm) {
            const bridges = (vm.networkDevices ?? []).map((d) => d.bridge);
            out.push({ resource: r, kind: "vm", id: vm.vmId, node: vm.nodeName, tags: vm.tags, bridges });
        }
        const lxc = absentNulls(r.asType(proxmoxve.ContainerLegacy));
        if (lxc) {
            const bridges = (lxc.networkInterfaces ?? []).map((n) => n.bridge);
            out.push({ resource: r, kind: "lxc", id: lxc.vmId, node: lxc.nodeName, tags: lxc.tags, bridges });
        }
    }
    return out;
}

export const guestOnOwnBridge = coveredStackPolicy(
    "guest-on-own-environment-bridge",
    "Every guest sits only on a bridge this stack declares for the guest's own environment.",
    "Attach the guest to its environment's bridge.",
    (resources, reportViolation, couldNotCheck) => {
        const bridges = resources.flatMap((r) => {
            const b = absentNulls(r.asType(proxmoxve.network.linux.Bridge));
            return b ? [{ name: b.name, node: b.nodeName, env: environmentOfComment(b.comment) }] : [];
        });
        for (const g of guestsOf(resources)) {
            const env = environmentOfTags(g.tags);
            if (env === undefined) {
                if (g.tags !== undefined)
                    reportViolation(`${g.resource.name}: no environment tag in [${g.tags.join(", ")}]`, g.resource.urn);
                else couldNotCheck(`${g.resource.name} has no tags, so no environment`, g.resource.urn);
                continue;
            }
            for (const name of g.bridges) {
                if (name === undefined) continue; // unknown in preview
                const bridge = bridges.find((b) => b.name === name && (g.node === undefined || b.node === g.node));
                if (!bridge) {
                    reportViolation(
                        `${g.resource.name} (${env}) is on bridge ${name}, which this stack does not declare`,
                        g.resource.urn,
                    );
                } else if (bridge.env !== env) {
                    reportViolation(
                        `${g.resource.name} (${env}) is on bridge ${name} of environment ${bridge.env ?? "unknown"}`,
                        g.resource.urn,
                    );
                }
            }
        }
    },
);

/**
 * The public guests of `kind` whose firewall lets out what no rule allows. A guest's options name it by vmId (a VM)
 * or containerId (a container); Proxmox's output policy defaults to ACCEPT (pve-firewall src/PVE/Firewall.pm,
 * generate_tap_rules_direction: `$options->{policy_out} || 'ACCEPT'`), so options without one accept.
 */
function checkOutbound(
    kind: GuestView["kind"],
    resources: PolicyResource[],
    reportViolation: (message: string, urn?: string) => void,
    couldNotCheck: CouldNotCheck,
): void {
    const guests = guestsOf(resources).filter((g) => g.kind === kind);
    const what = kind === "vm" ? "VM" : "container";
    for (const r of resources) {
        const o = absentNulls(r.asType(proxmoxve.firewall.OptionsLegacy));
        const id = kind === "vm" ? o?.vmId : o?.containerId;
        if (!o || id === undefined) continue; // another kind's options, or none of a guest's
        const guest = guests.find((g) => g.id === id && (g.node === undefined || g.node === o.nodeName));
        if (!guest) {
            couldNotCheck(`${r.name}: no ${what} ${id} on node ${o.nodeName ?? "?"} in this stack`, r.urn);
            continue;
        }
        const env: Environment | undefined = environmentOfTags(guest.tags);
        if (env === undefined) {
            couldNotCheck(`${r.name}: ${what} ${guest.resource.name} names no environment in its tags`, r.urn);
        } else if (env === "public" && o.outputPolicy !== "DROP") {
            const policy = o.outputPolicy ?? "unset (Proxmox's default ACCEPT)";
            reportViolation(`${r.name}: outputPolicy is ${policy} on public ${what} ${guest.resource.name}`, r.urn);
        }
    }
}

export const publicVmOutboundDrop = coveredStackPolicy(
    "public-vm-outbound-drop",
    "A public VM's firewall drops outbound traffic that no rule allows.",
    "Set outputPolicy DROP in the public VM's firewall options and allow what it needs by rule.",
    (resources, reportViolation, couldNotCheck) => checkOutbound("vm", resources, reportViolation, couldNotCheck),
);

export const publicLxcOutboundDrop = coveredStackPolicy(
    "public-lxc-outbound-drop",
    "A public container's firewall drops outbound traffic that no rule allows.",
    "Set outputPolicy DROP in the public container's firewall options and allow what it needs by rule.",
    (resources, reportViolation, couldNotCheck) => checkOutbound("lxc", resources, reportViolation, couldNotCheck),
);

const MANAGEMENT_PORTS = [22, 8006];

interface RuleView {
    type?: string;
    action?: string;
    dport?: string;
    macro?: string;
    source?: string;
    securityGroup?: string;
}

/** The inbound ACCEPT rules that open a management port to a wide source. */
function wideManagementRules(rules: RuleView[] | undefined): string[] {
    return (rules ?? [])
        .filter((r) => r.securityGroup === undefined && r.type === "in" && r.action === "ACCEPT")
        .filter((r) => (r.macro === "SSH" || portListIncludes(r.dport, MANAGEMENT_PORTS)) && r.macro !== "Ping")
        .filter((r) => isWideSource(r.source))
        .map((r) => `${r.macro ?? `port ${r.dport ?? "any"}`} from ${r.source ?? "anywhere"}`);
}

export const noWideManagementPorts = resourcePolicy(
    "no-wide-management-ports",
    "No firewall rule opens SSH (22) or the Proxmox UI (8006) to the whole internet or a prefix shorter than /8.",
    "Narrow the rule's source to the LAN or VPN subnet.",
    [
        validateResourceOfType(proxmoxve.firewall.RulesLegacy, (rules, _args, reportViolation) => {
            for (const r of wideManagementRules(rules.rules)) reportViolation(`rule opens ${r}`);
        }),
        validateResourceOfType(proxmoxve.cluster.firewall.security.GroupLegacy, (group, _args, reportViolation) => {
            for (const r of wideManagementRules(group.rules))
                reportViolation(`security group ${group.name} opens ${r}`);
        }),
    ],
);

/**
 * An environment's VLAN is set on the host, as its bridge's port (<uplink>.<vlan>), so a guest never tags. A guest
 * NIC's tag on a VLAN-aware bridge puts it on that VLAN of the trunk, the management one among them; on a plain
 * bridge Proxmox builds a bridge <bridge>v<tag> on <port>.<tag> for it (pve-common src/PVE/Network.pm, tap_plug and
 * activate_bridge_vlan). Either way the guest leaves the network its environment was given.
 */
export const noGuestOnManagementVlan = resourcePolicy(
    "no-guest-on-management-vlan",
    "No guest can reach a VLAN its environment does not own, the management VLAN among them: no guest NIC carries a VLAN tag and no bridge is VLAN-aware.",
    "Remove the NIC's vlanId and the bridge's vlanAware; an environment's VLAN is its bridge's port (bridges.<name>.vlan in Pulumi.yaml).",
    [
        validateResourceOfType(proxmoxve.VmLegacy, (vm, _args, reportViolation) => {
            for (const [i, d] of (vm.networkDevices ?? []).entries()) {
                if (d.vlanId !== undefined) reportViolation(`networkDevices[${i}] tags VLAN ${d.vlanId}`);
            }
        }),
        validateResourceOfType(proxmoxve.ContainerLegacy, (lxc, _args, reportViolation) => {
            for (const [i, n] of (lxc.networkInterfaces ?? []).entries()) {
                if (n.vlanId !== undefined) reportViolation(`networkInterfaces[${i}] tags VLAN ${n.vlanId}`);
            }
        }),
        validateResourceOfType(proxmoxve.network.linux.Bridge, (bridge, _args, reportViolation) => {
            if (bridge.vlanAware === true) reportViolation(`bridge ${bridge.name} is VLAN-aware`);
        }),
    ],
);

export const isolationPolicies = [
    guestOnOwnBridge,
    publicVmOutboundDrop,
    publicLxcOutboundDrop,
    noWideManagementPorts,
    noGuestOnManagementVlan,
];
