// What build.ts hands the stack's other builders (backups.ts, monitoring.ts, gates.ts): the hosts, the
// service containers once built, the host check's findings and the lookups they share. Its own file, so those builders need not import build.ts back.

import * as pulumi from "@pulumi/pulumi";
import { HostStatus } from "../components/host/check";
import { ProxmoxHost } from "../components/host/proxmoxHost";
import { VmModel } from "../config/resolve";
import { LxcOutput } from "./outputs";

export interface Hosts {
    readonly hosts: Record<string, ProxmoxHost>;
    /** Storage ids by `<node>/<storage id>`, resolved once the storage entry exists. */
    readonly storage: Record<string, pulumi.Output<string>>;
    /** The environment's pool, which every guest joins: its VM privileges are granted there. */
    readonly poolId: pulumi.Output<string>;
}

export interface Containers {
    readonly outputs: Record<string, LxcOutput>;
    /** What a login to each container waits for: its start, and its data setup where it has one. */
    readonly ready: Record<string, pulumi.Resource[]>;
    /** The data layer's setup commands: the VMs' services (Open WebUI on PostgreSQL) wait for them. */
    readonly dataSetups: pulumi.Resource[];
    /** Each container's start, by name: set-ups inside it wait for it. */
    readonly starts: Record<string, pulumi.Resource>;
}

/** A lookup that fails loudly: the resolve step guarantees every key the wiring asks for. */
export function pick<T>(items: Readonly<Record<string, T>>, key: string, what: string): T {
    const item = items[key];
    if (item === undefined) throw new Error(`internal: no ${what} "${key}" was built`);
    return item;
}

/** What the host check found on each node the environment touches. */
export type HostStatuses = Readonly<Record<string, HostStatus>>;

/** Why a VM waits this `up` out: its host's pending reboot; undefined when the host is ready. */
export function waitingFor(vm: VmModel, statuses: HostStatuses): string | undefined {
    const status = statuses[vm.node];
    if (!status?.required) return undefined;
    return `the reboot of ${vm.node} (${status.reasons.join("; ") || "host settings not live"}); run \`pulumi up\` again after it`;
}
