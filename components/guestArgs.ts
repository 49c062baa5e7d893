// What the GPU VMs and the service containers take alike from their environment: its network, its
// mirror's storage and its pool.

import * as pulumi from "@pulumi/pulumi";
import { EnvironmentName } from "../config/schema";
import { GuestNetworkArgs } from "./network/guestIpv4";

export interface GuestArgs extends GuestNetworkArgs {
    readonly environment: EnvironmentName;
    /** Storage id of the environment's mirror: the guest's disks (a VM's EFI vars and cloud-init drive too). */
    readonly storageId: pulumi.Input<string>;
    /** The environment's pool (components/host/access.ts): its VM privileges reach the guest through it. */
    readonly poolId: pulumi.Input<string>;
}
