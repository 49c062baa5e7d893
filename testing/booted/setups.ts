// The set-up scripts `up` runs on one guest or node, taken from a planned stack exactly as the remote
// commands carry them: the stdin (the rendered script, with the plan's placeholder secrets), the command
// that reads it (`bash -s`, or `sudo bash -s` for a VM's non-root user), the user, and the order their
// dependencies impose. Running these on a booted system is running what `up` would send.

import type { PlannedStack } from "../planStack";
import { BootedSystem, RunResult } from "./system";

export interface PlannedSetup {
    /** The remote command's resource name, e.g. private-postgres-data-setup. */
    name: string;
    host: string;
    user: string;
    /** The command the script is piped to. */
    create: string;
    stdin: string;
}

const REMOTE_COMMAND = "command:remote:Command";

/** Every remote command the plan runs against `host`, dependencies first (registration order otherwise). */
export function setupsFor(plan: PlannedStack, host: string): PlannedSetup[] {
    const commands = plan.resources.filter(
        (r) => r.type === REMOTE_COMMAND && (r.inputs["connection"] as { host?: string } | undefined)?.host === host,
    );
    const byUrn = new Map(commands.map((r) => [r.urn, r]));
    const ordered: typeof commands = [];
    const visit = (r: (typeof commands)[number], path: string[]) => {
        if (ordered.includes(r)) return;
        if (path.includes(r.urn)) throw new Error(`dependency cycle among ${host}'s set-ups: ${path.join(" -> ")}`);
        for (const dep of r.dependencies) {
            const d = byUrn.get(dep);
            if (d) visit(d, [...path, r.urn]);
        }
        ordered.push(r);
    };
    for (const r of commands) visit(r, []);
    return ordered.map((r) => {
        const connection = r.inputs["connection"] as { user?: string };
        const stdin = r.inputs["stdin"];
        if (typeof stdin !== "string" || stdin === "") throw new Error(`${r.name} has no script in the plan`);
        return { name: r.name, host, user: connection.user ?? "root", create: String(r.inputs["create"]), stdin };
    });
}

/** One planned set-up by name, failing with the names there are. */
export function setupNamed(plan: PlannedStack, host: string, name: string): PlannedSetup {
    const all = setupsFor(plan, host);
    const found = all.find((s) => s.name === name);
    if (!found) throw new Error(`no set-up ${name} on ${host}; the plan has ${all.map((s) => s.name).join(", ")}`);
    return found;
}

/** Runs a planned set-up on a booted system as `up` does: its command, its stdin, as root, on a connection of its own. */
export function runSetup(system: BootedSystem, setup: PlannedSetup): Promise<RunResult> {
    if (setup.user !== "root") throw new Error(`${setup.name} logs in as ${setup.user}; booted systems take root only`);
    return system.login(setup.create, setup.stdin);
}
