// Wires the environment's backups: the PBS server where this stack runs it (its datastores as mount
// points of the backup container), the environment's PBS storage entry and vzdump job, and the
// application backup timers in the PostgreSQL containers and the VMs with vector stores.

import { LoadedStack } from "../config/load";
import { BackupServer, datastoreMountPoints } from "../components/backup/backupServer";
import { EnvironmentBackups, GuestTarget } from "../components/backup/environmentBackups";
import { GpuGuest } from "../components/gpuVm/gpuPassthroughVm";
import { ComposeWorkload } from "../components/workload/composeWorkload";
import type { Containers, Hosts } from "./wiring";
import { BackupOutput } from "./outputs";
import { vectorApiKeys } from "./secrets";

/** The backup container's datastore volumes; none for any other container. */
export function backupMountPoints(
    stack: LoadedStack,
    container: string,
    storage: Hosts["storage"],
    node: string,
): ReturnType<typeof datastoreMountPoints> | undefined {
    const server = stack.backup?.server;
    if (!server || server.container !== container) return undefined;
    const ids = Object.fromEntries(
        server.datastores.map((d) => [d.storage, storage[`${node}/${d.storage}`] ?? d.storage]),
    );
    return datastoreMountPoints(server, ids);
}

/** Where each job's installer logs in, and what it waits for. */
function targets(
    stack: LoadedStack,
    containers: Containers,
    vms: Record<string, GpuGuest>,
    workloads: Record<string, ComposeWorkload>,
): Record<string, GuestTarget> {
    const b = stack.backup;
    const out: Record<string, GuestTarget> = {};
    for (const pg of b?.postgres ?? []) {
        out[pg.name] = { address: pg.address, user: "root", ready: containers.ready[pg.name] ?? [] };
    }
    // A VM whose workload waits for its host's reboot gets its timer on the `up` after that reboot.
    for (const vm of b?.vectorVms ?? []) {
        const workload = workloads[vm.name];
        if (workload && vms[vm.name]) out[vm.name] = { address: vm.address, user: vm.user, ready: [workload] };
    }
    return out;
}

export function buildBackups(
    stack: LoadedStack,
    hosts: Hosts,
    containers: Containers,
    vms: Record<string, GpuGuest>,
    workloads: Record<string, ComposeWorkload>,
): BackupOutput | undefined {
    const b = stack.backup;
    if (!b) return undefined;
    const env = stack.environment;
    const secret = (name: string) => stack.secrets.services.value(name);
    const server = b.server
        ? new BackupServer(`${env}-pbs-server`, {
              server: b.server,
              sshPrivateKey: stack.secrets.guestSshPrivateKey,
              passwords: Object.fromEntries(b.server.datastores.map((d) => [d.environment, secret(d.passwordSecret)])),
              ...(b.server.offsite ? { offsitePassword: secret(b.server.offsite.passwordSecret) } : {}),
              dependsOn: containers.ready[b.server.container] ?? [],
          })
        : undefined;
    const first = stack.nodes[0];
    const host = first ? hosts.hosts[first.name] : undefined;
    if (!host) throw new Error("internal: backups need a node's provider");
    new EnvironmentBackups(
        `${env}-backups`,
        {
            backup: b,
            nodes: stack.nodes.map((n) => n.name),
            password: secret(b.pbs.passwordSecret),
            fingerprint: server ? server.fingerprint : b.pbs.fingerprint,
            sshPrivateKey: stack.secrets.guestSshPrivateKey,
            vectorApiKeys: vectorApiKeys(stack, b),
            guests: targets(stack, containers, vms, workloads),
            ...(server ? { dependsOn: [server.setup] } : {}),
        },
        { provider: host.provider },
    );
    return {
        storage: b.pbs.storageId,
        datastore: b.pbs.datastore,
        namespace: b.pbs.namespace,
        job: b.pbs.jobId,
        schedule: b.schedule,
        guests: b.guests.map((g) => g.name),
        ...(server && b.server
            ? { server: { url: `https://${b.server.address}:8007`, fingerprint: server.fingerprint } }
            : {}),
    };
}
