// What build.ts hands the stack's other builders (backups.ts, monitoring.ts): the hosts and the
// service containers once built. Its own file, so those builders need not import build.ts back.

import * as pulumi from "@pulumi/pulumi";
import { ProxmoxHost } from "../components/host/proxmoxHost";
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
