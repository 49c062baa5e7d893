// Isolation between the environments: each guest on its own environment's bridge, public guests
// unable to reach out except through their rules, and no management port open to the world.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { PolicyResource, validateResourceOfType } from "@pulumi/policy";
import {
    environmentOfComment,
    environmentOfTags,
    isWideSource,
    portListIncludes,
    resourcePolicy,
    stackPolicy,
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

/** The VMs and containers of a stack, read the same way. */
export function guestsOf(resources: PolicyResource[]): GuestView[] {
    const out: GuestView[] = [];
    for (const r of resources) {
        const vm = r.asType(proxmoxve.VmLegacy);
        if (vm) {
            const bridges = (vm.networkDevices ?? []).map((d) => d.bridge);
            out.push({ resource: r, kind: "vm", id: vm.vmId, node: vm.nodeName, tags: vm.tags, bridges });
        }
        const lxc = r.asType(proxmoxve.ContainerLegacy);
        if (lxc) {
            const bridges = (lxc.networkInterfaces ?? []).map((n) => n.bridge);
            out.push({ resource: r, kind: "lxc", id: lxc.vmId, node: lxc.nodeName, tags: lxc.tags, bridges });
        }
    }
    return out;
}

export const guestOnOwnBridge = stackPolicy(
    "guest-on-own-environment-bridge",
    "Every guest sits only on a bridge this stack declares for the guest's own environment.",
    "Attach the guest to its environment's bridge.",
    (args, reportViolation) => {
        const bridges = args.resources.flatMap((r) => {
            const b = r.asType(proxmoxve.network.linux.Bridge);
            return b ? [{ name: b.name, node: b.nodeName, env: environmentOfComment(b.comment) }] : [];
        });
        for (const g of guestsOf(args.resources)) {
            const env = environmentOfTags(g.tags);
            if (env === undefined) {
                if (g.tags !== undefined)
                    reportViolation(`${g.resource.name}: no environment tag in [${g.tags.join(", ")}]`, g.resource.urn);
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

export const publicOutboundDrop = stackPolicy(
    "public-guest-outbound-drop",
    "A public guest's firewall drops outbound traffic that no rule allows.",
    "Set outputPolicy DROP in the public guest's firewall options and allow what it needs by rule.",
    (args, reportViolation) => {
        const guests = guestsOf(args.resources);
        for (const r of args.resources) {
            const o = r.asType(proxmoxve.firewall.OptionsLegacy);
            if (!o || o.outputPolicy === undefined) continue;
            const id = o.vmId ?? o.containerId;
            const kind = o.vmId !== undefined ? "vm" : "lxc";
            const guest = guests.find((g) => g.kind === kind && g.id === id && g.node === o.nodeName);
            if (guest && environmentOfTags(guest.tags) === "public" && o.outputPolicy !== "DROP") {
                reportViolation(
                    `${r.name}: outputPolicy is ${o.outputPolicy} on public guest ${guest.resource.name}`,
                    r.urn,
                );
            }
        }
    },
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

export const isolationPolicies = [guestOnOwnBridge, publicOutboundDrop, noWideManagementPorts];
