// A service container (PostgreSQL, Redis, security, CI/CD, monitoring, backup): unprivileged, on
// its environment's bridge and mirror, with nesting only for roles that run containers inside.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { withFormerTypes } from "../formerTypes";
import { LxcModel } from "../../config/resolve";
import { EnvironmentName, LxcRole } from "../../config/schema";
import { GuestFirewall, guestFirewallArgs } from "../network/guestFirewall";
import { GuestArgs } from "../guestArgs";
import { guestIpv4 } from "../network/guestIpv4";
import { formatCpuset } from "../../lib/cpuset";
import { networkCidr } from "../../lib/ipv4";
import { loadScript, renderScript } from "../../lib/scripts";
import { describe } from "../describe";

/** What of the container's model the component uses. */
export type ServiceLxcSpec = Pick<
    LxcModel,
    | "vmid"
    | "node"
    | "role"
    | "description"
    | "sizing"
    | "cpus"
    | "network"
    | "sshPublicKeys"
    | "inbound"
    | "outbound"
    | "wireguard"
    | "startOnBoot"
>;

export interface ServiceLxcArgs extends GuestArgs {
    readonly lxc: ServiceLxcSpec;
    /** Datastore file id of the template (`local:vztmpl/...`). */
    readonly templateFileId: pulumi.Input<string>;
    /** Root SSH to the node: `pct start`, once the container's firewall is in place. */
    readonly hostConnection: command.types.input.remote.ConnectionArgs;
    /** Extra volumes (the backup container's datastores), each a mount point on a mirror. */
    readonly mountPoints?: proxmoxve.types.input.ContainerLegacyMountPoint[];
}

/** Where each role's service will listen, for the stack outputs. */
export const ROLE_ENDPOINTS: Readonly<Record<LxcRole, readonly string[]>> = {
    postgresql: ["postgresql://{ip}:5432"],
    redis: ["redis://{ip}:6379"],
    security: [],
    cicd: [],
    monitoring: ["http://{ip}:9090", "http://{ip}:3000"],
    backup: ["https://{ip}:8007"],
};

export function roleEndpoints(role: LxcRole, ip: string | undefined): string[] {
    return ip === undefined ? [] : ROLE_ENDPOINTS[role].map((e) => e.replace("{ip}", ip));
}

const START = loadScript(__dirname, "lxc-start.sh");

/** Pins a container to its CPUs (none: no pinning) and starts it unless it runs (scripts/lxc-start.sh). */
export function renderStartScript(vmid: number, cpus: readonly number[] = []): string {
    return renderScript(
        "Rendered by ai-dualstack (components/serviceLxc/serviceLxc.ts). Do not edit on the host.",
        { AIDS_VMID: String(vmid), AIDS_CPUS: formatCpuset(cpus) },
        START,
    );
}

export function lxcTags(env: EnvironmentName, role: LxcRole): string[] {
    return ["ai-dualstack", env, "lxc", role].sort();
}

export class ServiceLxc extends pulumi.ComponentResource {
    public readonly container: proxmoxve.ContainerLegacy;
    public readonly firewall: GuestFirewall;
    /** Starts the container, after its firewall: what talks to the container waits for this. */
    public readonly start: command.remote.Command;
    public readonly vmId: pulumi.Output<number>;
    public readonly address: pulumi.Output<string | undefined>;
    public readonly endpoints: pulumi.Output<string[]>;

    constructor(name: string, args: ServiceLxcArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "ai-dualstack:serviceLxc:ServiceLxc",
            name,
            {},
            withFormerTypes("ai-dualstack:serviceLxc:ServiceLxc", opts),
        );
        const lxc = args.lxc;
        this.container = this.lxc(name, args);
        this.vmId = this.container.vmId.apply((id) => id ?? lxc.vmid);
        this.address = pulumi.output<string | undefined>(lxc.network.address?.ip);
        this.endpoints = this.address.apply((ip) => roleEndpoints(lxc.role, ip));

        this.firewall = new GuestFirewall(
            `${name}-firewall`,
            guestFirewallArgs(
                { containerId: this.vmId },
                {
                    ...lxc,
                    address: lxc.network.address?.ip,
                    // The VPN's clients reach the environment through the container: it sends from their addresses.
                    forwards: lxc.wireguard ? [networkCidr(lxc.wireguard.address)] : [],
                },
                args,
            ),
            { parent: this },
        );
        this.start = describe(
            `CT ${lxc.vmid}: ${lxc.cpus.length > 0 ? `pinned to ${formatCpuset(lxc.cpus)}, ` : ""}started once its firewall is in place`,
            new command.remote.Command(
                `${name}-start`,
                {
                    connection: args.hostConnection,
                    create: "bash -s",
                    stdin: renderStartScript(lxc.vmid, lxc.cpus),
                    logging: "stdoutAndStderr",
                },
                { parent: this, dependsOn: [this.container, this.firewall] },
            ),
        );
        this.registerOutputs({ vmId: this.vmId, address: this.address, endpoints: this.endpoints });
    }

    /** The container itself: unprivileged, sized by its role, created stopped. */
    private lxc(name: string, args: ServiceLxcArgs): proxmoxve.ContainerLegacy {
        const lxc = args.lxc;
        const size = lxc.sizing;
        return new proxmoxve.ContainerLegacy(
            name,
            {
                nodeName: lxc.node,
                vmId: lxc.vmid,
                poolId: args.poolId,
                description: lxc.description,
                tags: lxcTags(args.environment, lxc.role),
                unprivileged: true,
                features: { nesting: size.nesting },
                cpu: { cores: size.cores },
                memory: { dedicated: Math.round(size.memoryGiB * 1024), swap: 512 },
                disk: { datastoreId: args.storageId, size: size.diskGiB },
                ...(args.mountPoints && args.mountPoints.length > 0 ? { mountPoints: args.mountPoints } : {}),
                operatingSystem: { templateFileId: args.templateFileId, type: "debian" },
                networkInterfaces: [
                    {
                        name: "eth0",
                        bridge: args.bridge,
                        firewall: true,
                        ...(lxc.network.macAddress ? { macAddress: lxc.network.macAddress } : {}),
                    },
                ],
                initialization: {
                    hostname: name,
                    ipConfigs: [{ ipv4: guestIpv4(lxc.network, args.gateway) }],
                    ...(args.dns.length > 0 ? { dns: { servers: [...args.dns] } } : {}),
                    userAccount: { keys: [...lxc.sshPublicKeys] },
                },
                startOnBoot: lxc.startOnBoot,
                // Created stopped: the start command below starts it once its firewall is in place.
                started: false,
            },
            {
                parent: this,
                protect: size.protect,
                // A newer template or a rotated key must not replace a container full of data.
                ignoreChanges: ["operatingSystem.templateFileId", "initialization.userAccount", "started"],
            },
        );
    }
}
