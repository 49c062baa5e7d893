// The memory walk that the config rules and the host check share: one environment's guests on one
// node, in config order, against the environment's share of the node. A hugepage-backed VM's RAM
// comes from the environment's hugepage pool; everything else (the other guests' RAM and each VM's
// QEMU overhead) from the rest of the share. The first guest that does not fit each pool is named.
// The config rules walk the configured share (config/rules/placement.ts); the host check walks the
// share the node's measured MemTotal leaves (components/host/check.ts).

import { ENVIRONMENTS, EnvironmentName, NodeConfig } from "./schema";
import { arcMaxGiB } from "./sizing";

/** A guest as the walk sees it. */
export interface MemoryGuest {
    readonly kind: "vms" | "containers";
    readonly name: string;
    readonly memoryGiB: number;
    readonly hugepages: boolean;
    /** A GPU guest of kind "container" (under vms): no QEMU process, so no overhead. */
    readonly lxc?: boolean;
}

/** What the environment's guests may take on the node. */
export interface MemoryShare {
    /** RAM, the hugepages included. */
    readonly memoryGiB: number;
    /** The part reserved as hugepages at boot. */
    readonly hugepagesGiB: number;
    /** Each VM's QEMU process beyond the guest's RAM (nodes.<node>.memory.vmOverheadGiB). */
    readonly vmOverheadGiB: number;
}

export type MemoryMisfit =
    | { readonly pool: "hugepages"; readonly guest: MemoryGuest; readonly before: number }
    | {
          readonly pool: "plain";
          readonly guest: MemoryGuest;
          /** What it takes beside the hugepages: its RAM (unless hugepage-backed) and its QEMU overhead. */
          readonly need: number;
          readonly qemu: number;
          /** The share less the hugepages. */
          readonly room: number;
          /** What the guests before it take of that room. */
          readonly before: number;
      };

/** Hundredths of a GiB: the figures are GiB with at most a fraction, and messages print them. */
const hundredths = (gib: number) => Math.round(gib * 100) / 100;

/** The first guest that does not fit each pool, in the order the walk meets them. */
export function memoryMisfits(share: MemoryShare, guests: readonly MemoryGuest[]): MemoryMisfit[] {
    const room = hundredths(share.memoryGiB - share.hugepagesGiB);
    const out: MemoryMisfit[] = [];
    let huge = 0;
    let plain = 0;
    let hugeFull = false;
    let plainFull = false;
    for (const guest of guests) {
        const qemu = guest.kind === "vms" && guest.lxc !== true ? share.vmOverheadGiB : 0;
        if (guest.hugepages && !hugeFull && huge + guest.memoryGiB > share.hugepagesGiB) {
            hugeFull = true;
            out.push({ pool: "hugepages", guest, before: huge });
        }
        if (guest.hugepages) huge += guest.memoryGiB;
        const need = (guest.hugepages ? 0 : guest.memoryGiB) + qemu;
        if (!plainFull && need > 0 && plain + need > room) {
            plainFull = true;
            out.push({ pool: "plain", guest, need, qemu, room, before: hundredths(plain) });
        }
        plain += need;
    }
    return out;
}

/** What of a guest does not fit beside the hugepages, as both refusals say it. */
export function plainMisfitWhat(m: Extract<MemoryMisfit, { pool: "plain" }>, nodeName: string): string {
    const overheadKey = `nodes.${nodeName}.memory.vmOverheadGiB`;
    if (m.guest.hugepages) return `its QEMU overhead (${m.qemu} GiB, ${overheadKey})`;
    if (m.qemu > 0) return `${m.need} GiB (${m.guest.memoryGiB} + ${m.qemu} GiB QEMU overhead, ${overheadKey})`;
    return `${m.need} GiB`;
}

/**
 * What the host check needs to judge the node's real MemTotal for one environment: the figures the
 * config's budget counts, the environment's share, the other environments' allocations (their
 * guests are in their own stacks, so each counts in full) and this environment's guests there.
 */
export interface NodeMemoryFit {
    readonly node: string;
    readonly environment: EnvironmentName;
    /** MemTotal as the config says it (nodes.<node>.memory.totalGiB). */
    readonly totalGiB: number;
    readonly arcMaxGiB: number;
    readonly hostReservedGiB: number;
    readonly share: MemoryShare;
    readonly others: readonly { readonly environment: EnvironmentName; readonly memoryGiB: number }[];
    readonly guests: readonly MemoryGuest[];
}

/** The environment's fit on a node, from the config; undefined where it has no allocation there. */
export function nodeMemoryFit(
    nodeName: string,
    node: NodeConfig,
    environment: EnvironmentName,
    guests: readonly (MemoryGuest & { readonly node: string })[],
): NodeMemoryFit | undefined {
    const alloc = node.allocations[environment];
    if (!alloc) return undefined;
    return {
        node: nodeName,
        environment,
        totalGiB: node.memory.totalGiB,
        arcMaxGiB: arcMaxGiB(node.memory),
        hostReservedGiB: node.memory.hostReservedGiB,
        share: {
            memoryGiB: alloc.memoryGiB,
            hugepagesGiB: alloc.hugepagesGiB,
            vmOverheadGiB: node.memory.vmOverheadGiB,
        },
        others: ENVIRONMENTS.filter((e) => e !== environment).flatMap((e) => {
            const other = node.allocations[e];
            return other ? [{ environment: e, memoryGiB: other.memoryGiB }] : [];
        }),
        guests: guests
            .filter((g) => g.node === nodeName)
            .map((g) => ({
                kind: g.kind,
                name: g.name,
                memoryGiB: g.memoryGiB,
                hugepages: g.hugepages,
                ...(g.lxc ? { lxc: true } : {}),
            })),
    };
}

/**
 * MemTotal may read this much below totalGiB (firmware reservations move by a few MiB between
 * kernels; totalGiB is MemTotal rounded down) before the config's figure is taken as wrong.
 */
export const MEMTOTAL_SLACK_GIB = 0.5;

/**
 * The host check's refusal for the node's measured MemTotal (kB, /proc/meminfo), or undefined when
 * the config's figure holds. Below it, the guests are walked again against the share that MemTotal
 * leaves (less the ARC maximum, hostReservedGiB and the other environments' allocations): the first
 * that does not fit is named, with the measured figures; when they all still fit, totalGiB is wrong.
 */
export function measuredMemoryRefusal(fit: NodeMemoryFit, memTotalKiB: number): string | undefined {
    const measured = memTotalKiB / 1048576;
    if (measured + MEMTOTAL_SLACK_GIB >= fit.totalGiB) return undefined;
    const memTotal = hundredths(measured);
    const othersGiB = fit.others.reduce((sum, o) => sum + o.memoryGiB, 0);
    const left = hundredths(measured - fit.arcMaxGiB - fit.hostReservedGiB - othersGiB);
    const share = { ...fit.share, memoryGiB: Math.max(0, Math.min(fit.share.memoryGiB, left)) };
    const misfit = memoryMisfits(share, fit.guests).find((m) => m.pool === "plain");
    const setTotal = `nodes.${fit.node}.memory.totalGiB`;
    if (misfit?.pool !== "plain") {
        return `the node's MemTotal is ${Math.floor(measured)} GiB (${memTotalKiB} kB), but ${setTotal} says ${fit.totalGiB}; set totalGiB to MemTotal (\`grep MemTotal /proc/meminfo\`, kB / 1048576) and size the allocations to it`;
    }
    const less = [
        `the ZFS ARC maximum (${fit.arcMaxGiB} GiB)`,
        `hostReservedGiB (${fit.hostReservedGiB} GiB)`,
        ...fit.others.map((o) => `the ${o.environment} allocation (${o.memoryGiB} GiB)`),
    ];
    const lessText = `${less.slice(0, -1).join(", ")} and ${less[less.length - 1] ?? ""}`;
    const allocAt = `nodes.${fit.node}.allocations.${fit.environment}.memoryGiB`;
    return [
        `${misfit.guest.kind}.${misfit.guest.name}.memoryGiB: ${plainMisfitWhat(misfit, fit.node)} does not fit: `,
        `${allocAt} (${fit.share.memoryGiB}), cut to ${share.memoryGiB} GiB by the node's measured MemTotal of ${memTotal} GiB (${memTotalKiB} kB) `,
        `less ${lessText}, `,
        `leaves ${misfit.room} GiB beside ${fit.share.hugepagesGiB} GiB of hugepages, and the guests before it take ${misfit.before} `,
        `(each VM's QEMU overhead included, ${fit.share.vmOverheadGiB} GiB: nodes.${fit.node}.memory.vmOverheadGiB); `,
        `set ${setTotal} to MemTotal (${Math.floor(measured)}) and shrink a guest or an allocation`,
    ].join("");
}
