// Dependency graphs given as name → the names it waits for (services' dependsOn): cycles for the
// config rules, a start order for the workload. Names a node lists but the graph lacks are ignored.

export type Graph = Readonly<Record<string, readonly string[]>>;

/** The first cycle that starts and ends at `start`, as the path walked ([a, b, a]); else undefined. */
export function cycleThrough(graph: Graph, start: string): string[] | undefined {
    const walk = (name: string, path: string[]): string[] | undefined => {
        for (const dep of graph[name] ?? []) {
            if (dep === start) return [...path, dep];
            if (!path.includes(dep) && dep in graph) {
                const found = walk(dep, [...path, dep]);
                if (found) return found;
            }
        }
        return undefined;
    };
    return walk(start, [start]);
}

/** Every name after the names it depends on; `last` (if given) as late as its dependents allow. */
export function dependencyOrder(graph: Graph, last?: string): string[] {
    const done: string[] = [];
    const visiting = new Set<string>();
    const visit = (name: string) => {
        if (done.includes(name)) return;
        if (visiting.has(name)) throw new Error(`a dependency cycle runs through "${name}"`);
        visiting.add(name);
        for (const dep of graph[name] ?? []) if (dep in graph) visit(dep);
        visiting.delete(name);
        done.push(name);
    };
    for (const name of Object.keys(graph).filter((n) => n !== last)) visit(name);
    if (last !== undefined && last in graph) visit(last);
    return done;
}
