// CPU set notation as Proxmox and the kernel write it ("0-3,8,10-11"): parse, print, compare.
// Plain functions: the schema, the validator and the VM component all use them.

/** Matches the notation `taskset -c` and Proxmox's `affinity` accept. */
export const CPUSET_PATTERN = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** Parses "0-3,8" into the sorted, de-duplicated list [0,1,2,3,8]. Throws on a malformed set. */
export function parseCpuset(text: string): number[] {
    const spec = text.replace(/\s+/g, "");
    if (!CPUSET_PATTERN.test(spec)) {
        throw new Error(`"${text}" is not a CPU set: write it like "4-11" or "0-3,8"`);
    }
    const cpus = new Set<number>();
    for (const part of spec.split(",")) {
        const [lo, hi] = part.split("-").map(Number) as [number, number | undefined];
        const end = hi ?? lo;
        if (end < lo) {
            throw new Error(`"${text}": range ${part} runs backwards, write it low-high`);
        }
        for (let cpu = lo; cpu <= end; cpu++) cpus.add(cpu);
    }
    return [...cpus].sort((a, b) => a - b);
}

/** Prints CPUs as the shortest range notation: [0,1,2,3,8] becomes "0-3,8". */
export function formatCpuset(cpus: Iterable<number>): string {
    const sorted = [...new Set(cpus)].sort((a, b) => a - b);
    const parts: string[] = [];
    let start: number | undefined;
    let prev: number | undefined;
    for (const cpu of sorted) {
        if (start === undefined || prev === undefined) {
            start = cpu;
        } else if (cpu !== prev + 1) {
            parts.push(start === prev ? `${start}` : `${start}-${prev}`);
            start = cpu;
        }
        prev = cpu;
    }
    if (start !== undefined && prev !== undefined) {
        parts.push(start === prev ? `${start}` : `${start}-${prev}`);
    }
    return parts.join(",");
}

/** The CPUs present in both sets, sorted. */
export function intersectCpus(a: readonly number[], b: readonly number[]): number[] {
    const inB = new Set(b);
    return a.filter((cpu) => inB.has(cpu));
}

/** The CPUs 0..threads-1 that none of the given sets claims. */
export function unclaimedCpus(threads: number, claimed: Iterable<string>): number[] {
    const taken = new Set([...claimed].flatMap(parseCpuset));
    return Array.from({ length: threads }, (_, i) => i).filter((c) => !taken.has(c));
}
