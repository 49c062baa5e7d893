// The backup config resolved: this environment's PBS storage entry and vzdump job, the guests it
// covers, the application dumps and snapshots inside them, and (where this stack runs it) the PBS
// server with one datastore, namespace and user per environment.

import { BackupConfig, BackupServerConfig, EnvironmentName, ParsedConfig } from "../schema";

/** Names every environment's backups use: nothing is shared between the two. */
export function pbsNames(env: EnvironmentName) {
    return {
        storageId: `pbs-${env}`,
        datastore: env,
        namespace: env,
        username: `${env}-backup@pbs`,
        jobId: `aids-${env}`,
        path: `/srv/pbs/${env}`,
    } as const;
}

export interface CoveredGuest {
    readonly name: string;
    readonly vmid: number;
    readonly kind: "vm" | "ct";
}

/** A vector store in a VM whose snapshots the VM's timer takes. */
export interface VectorStore {
    readonly service: string;
    readonly kind: "qdrant" | "chroma";
    /** Qdrant: the serviceSecrets name of its API key, if it has one. */
    readonly apiKeySecret?: string;
    /** Chroma: the Docker volume its data lives in. */
    readonly volume?: string;
}

export interface DatastoreModel {
    readonly environment: EnvironmentName;
    readonly storage: string;
    readonly sizeGiB: number;
    readonly passwordSecret: string;
    readonly retention: BackupConfig["retention"];
}

export interface BackupServerModel extends Omit<BackupServerConfig, "datastores"> {
    /** The container running PBS: name, node and address. */
    readonly node: string;
    readonly address: string;
    readonly datastores: readonly DatastoreModel[];
}

export type BackupModel = Readonly<{
    environment: EnvironmentName;
    pbs: BackupConfig["pbs"] & ReturnType<typeof pbsNames>;
    schedule: string;
    retention: BackupConfig["retention"];
    dumps: BackupConfig["dumps"];
    guests: readonly CoveredGuest[];
    /** PostgreSQL containers dumped nightly, by name, with their address. */
    postgres: readonly { name: string; address: string }[];
    /** VMs whose vector stores are snapshotted, with their login user and address. */
    vectorVms: readonly {
        name: string;
        user: string;
        address: string;
        stores: readonly VectorStore[];
        /** node-exporter's textfile folder in the VM (the throughput probe's, throughputGate.probe). */
        textfileDirectory: string;
    }[];
    server?: BackupServerModel;
}>;

const SECRET_REF = /^\{\{(\w+)\}\}$/;

/** The vector stores a VM runs, known by their images. */
export function vectorStoresOf(vmName: string, vm: ParsedConfig["vms"][string]): VectorStore[] {
    const stores: VectorStore[] = [];
    for (const [service, svc] of Object.entries(vm.services)) {
        const repo = svc.image.split(":")[0] ?? "";
        if (repo === "qdrant/qdrant") {
            const ref = SECRET_REF.exec(svc.secretEnvironment["QDRANT__SERVICE__API_KEY"] ?? "")?.[1];
            stores.push({ service, kind: "qdrant", ...(ref ? { apiKeySecret: ref } : {}) });
        } else if (repo === "chromadb/chroma") {
            const source = svc.volumes.find((v) => !v.source.startsWith("/"))?.source;
            stores.push({ service, kind: "chroma", ...(source ? { volume: `${vmName}-${source}` } : {}) });
        }
    }
    return stores.sort((a, b) => a.service.localeCompare(b.service));
}

/** The static address's IP; "" for DHCP (the rules require a static one where it matters). */
const ipOf = (address: string | undefined): string =>
    address === undefined || address === "dhcp" ? "" : (address.split("/")[0] ?? "");

function resolveServer(cfg: ParsedConfig, server: BackupServerConfig): BackupServerModel {
    const { datastores, ...rest } = server;
    const lxc = cfg.containers[server.container];
    return {
        ...rest,
        node: lxc?.node ?? "",
        address: ipOf(lxc?.network.address),
        datastores: Object.entries(datastores)
            .filter((e): e is [EnvironmentName, NonNullable<(typeof e)[1]>] => e[1] !== undefined)
            .map(([environment, ds]) => ({ environment, ...ds })),
    };
}

/** The backup model of an environment; undefined when its config has no `backup`. */
export function resolveBackup(cfg: ParsedConfig, env: EnvironmentName): BackupModel | undefined {
    const b = cfg.backup;
    if (!b) return undefined;
    const covered = new Set(b.guests);
    const guests: CoveredGuest[] = [
        ...Object.entries(cfg.vms).map(([name, vm]) => ({ name, vmid: vm.vmid, kind: "vm" as const })),
        ...Object.entries(cfg.containers).map(([name, lxc]) => ({ name, vmid: lxc.vmid, kind: "ct" as const })),
    ].filter((g) => covered.has(g.name));
    return {
        environment: env,
        pbs: { ...b.pbs, ...pbsNames(env) },
        schedule: b.schedule,
        retention: b.retention,
        dumps: b.dumps,
        guests: guests.sort((x, y) => x.vmid - y.vmid),
        postgres: Object.entries(cfg.containers)
            .filter(([, lxc]) => lxc.role === "postgresql" && lxc.backup !== false)
            .map(([name, lxc]) => ({ name, address: ipOf(lxc.network.address) }))
            .filter((p) => p.address !== ""),
        vectorVms: Object.entries(cfg.vms)
            .map(([name, vm]) => ({
                name,
                user: vm.cloudInit.user,
                address: ipOf(vm.network.address),
                stores: vectorStoresOf(name, vm),
                textfileDirectory: vm.throughputGate.probe.textfileDirectory,
            }))
            .filter((v) => v.stores.length > 0 && v.address !== "" && cfg.vms[v.name]?.backup !== false),
        ...(b.server ? { server: resolveServer(cfg, b.server) } : {}),
    };
}
