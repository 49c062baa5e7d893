// A service container (PostgreSQL, Redis, security, CI/CD, monitoring, backup): unprivileged, on
// its environment's bridge and mirror, with nesting only for roles that run containers inside.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { ContainerModel } from "../../config/resolve";
import { GuestFirewallPolicy } from "../../config/policy";
import { EnvironmentName, LxcRole } from "../../config/schema";
import { GuestFirewall } from "../network/guestFirewall";
import { guestIpv4 } from "../network/guestIpv4";

/** What of the container's model the component uses. */
export type ServiceLxcSpec = Pick<
    ContainerModel,
    "vmid" | "node" | "role" | "description" | "sizing" | "network" | "sshPublicKeys" | "inbound" | "startOnBoot"
>;

export interface ServiceLxcArgs {
    readonly environment: EnvironmentName;
    readonly container: ServiceLxcSpec;
    readonly storageId: pulumi.Input<string>;
    /** Datastore file id of the template (`local:vztmpl/...`). */
    readonly templateFileId: pulumi.Input<string>;
    readonly bridge: pulumi.Input<string>;
    readonly gateway: string;
    readonly dns: readonly string[];
    readonly securityGroup: pulumi.Input<string>;
    /** The environment policy's outbound default and anti-spoofing. */
    readonly firewallPolicy: GuestFirewallPolicy;
}

/** Where each role's service will listen, for the stack outputs. */
export const ROLE_ENDPOINTS: Readonly<Record<LxcRole, readonly string[]>> = {
    postgresql: ["postgresql://{ip}:5432"],
    redis: ["redis://{ip}:6379"],
    security: [],
    cicd: [],
    monitoring: ["http://{ip}:9090", "http://{ip}:3000"],
    backup: [],
};

export function roleEndpoints(role: LxcRole, ip: string | undefined): string[] {
    return ip === undefined ? [] : ROLE_ENDPOINTS[role].map((e) => e.replace("{ip}", ip));
}

export function lxcTags(env: EnvironmentName, role: LxcRole): string[] {
    return ["ai-dualstack", env, "lxc", role].sort();
}

export class ServiceLxc extends pulumi.ComponentResource {
    public readonly container: proxmoxve.ContainerLegacy;
    public readonly firewall: GuestFirewall;
    public readonly vmId: pulumi.Output<number>;
    public readonly address: pulumi.Output<string | undefined>;
    public readonly endpoints: pulumi.Output<string[]>;

    constructor(name: string, args: ServiceLxcArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:compute:ServiceLxc", name, {}, opts);
        const ct = args.container;
        const size = ct.sizing;

        this.container = new proxmoxve.ContainerLegacy(
            name,
            {
                nodeName: ct.node,
                vmId: ct.vmid,
                description: ct.description,
                tags: lxcTags(args.environment, ct.role),
                unprivileged: true,
                features: { nesting: size.nesting },
                cpu: { cores: size.cores },
                memory: { dedicated: Math.round(size.memoryGiB * 1024), swap: 512 },
                disk: { datastoreId: args.storageId, size: size.diskGiB },
                operatingSystem: { templateFileId: args.templateFileId, type: "debian" },
                networkInterfaces: [
                    {
                        name: "eth0",
                        bridge: args.bridge,
                        firewall: true,
                        ...(ct.network.macAddress ? { macAddress: ct.network.macAddress } : {}),
                    },
                ],
                initialization: {
                    hostname: name,
                    ipConfigs: [{ ipv4: guestIpv4(ct.network, args.gateway) }],
                    ...(args.dns.length > 0 ? { dns: { servers: [...args.dns] } } : {}),
                    userAccount: { keys: [...ct.sshPublicKeys] },
                },
                startOnBoot: ct.startOnBoot,
                started: true,
            },
            {
                parent: this,
                protect: size.protect,
                // A newer template or a rotated key must not replace a container full of data.
                ignoreChanges: ["operatingSystem.templateFileId", "initialization.userAccount"],
            },
        );
        this.vmId = this.container.vmId.apply((id) => id ?? ct.vmid);
        this.address = pulumi.output<string | undefined>(ct.network.address?.ip);
        this.endpoints = this.address.apply((ip) => roleEndpoints(ct.role, ip));

        this.firewall = new GuestFirewall(
            `${name}-firewall`,
            {
                nodeName: ct.node,
                containerId: this.vmId,
                securityGroup: args.securityGroup,
                inbound: ct.inbound,
                policy: args.firewallPolicy,
                ...(ct.network.address ? { address: ct.network.address.ip } : {}),
            },
            { parent: this },
        );
        this.registerOutputs({ vmId: this.vmId, address: this.address, endpoints: this.endpoints });
    }
}
