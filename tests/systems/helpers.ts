// What the booted-system suites share: the private stack's plan and addresses, a lab carrying its
// networks, and the double run every role gets: each set-up `up` sends to the guest, run as `up` runs it,
// then run again, which must change nothing.

import { ROLE_DEFAULTS } from "../../config/sizing";
import type { LxcRole } from "../../config/schema";
import { LabNetwork, startLab, Lab } from "../../testing/booted/lab";
import { PlannedSetup, runSetup, setupsFor } from "../../testing/booted/setups";
import { changesSince, snapshot } from "../../testing/booted/state";
import { sweepSystems } from "../../testing/booted/sweep";
import { bootedSystemsUnavailable, BootedSystem, bootSystem, RunResult, Suite } from "../../testing/booted/system";
import type { PlannedStack } from "../../testing/planStack";
import { committedPlan } from "../helpers/planCache";
import { parsedConfig } from "../helpers/config";

const cfg = parsedConfig("private");

/** Booted systems need root and a few host tools; without them (a workstation) the suites skip, under CI they fail. */
export const unavailable = bootedSystemsUnavailable();
export const describeBooted: jest.Describe = unavailable && process.env["CI"] !== "true" ? describe.skip : describe;
if (unavailable && process.env["CI"] === "true") throw new Error(`booted systems cannot run under CI: ${unavailable}`);

/** The private stack's guest network (gateway 10.10.10.1/24 as shipped) and the nodes' LAN (192.168.1.0/24). */
export const GUEST_NET: LabNetwork = { gateway: cfg.environments.private.network.gateway, prefix: 24 };
export const NODE = { address: cfg.nodes["pve1"]?.address, gateway: "192.168.1.1", prefix: 24 };
export const LAN: LabNetwork = { gateway: NODE.gateway, prefix: NODE.prefix };

/** A container's address in the private stack (without the prefix). */
export function addressOf(container: string): string {
    const ct = cfg.containers[container];
    if (!ct) throw new Error(`no container ${container} in Pulumi.private.yaml`);
    return ct.network.address.split("/")[0] as string;
}

export function privatePlan(): Promise<PlannedStack> {
    return committedPlan("private");
}

export function lab(): Lab {
    sweepSystems(); // a killed run's systems first, then its labs (startLab sweeps those)
    return startLab([GUEST_NET, LAN]);
}

/** Boots a system at a private-stack container's address. */
export function bootContainer(
    l: Lab,
    suite: Suite,
    container: string,
    nspawnArgs: string[] = [],
): Promise<BootedSystem> {
    return bootSystem(l, {
        suite,
        address: addressOf(container),
        prefix: GUEST_NET.prefix,
        gateway: GUEST_NET.gateway,
        hostname: container,
        nspawnArgs,
    });
}

/** One booted container per describe block, with the plan and the lab it lives in; read its fields inside tests. */
export interface BootedContainer {
    readonly plan: PlannedStack;
    readonly lab: Lab;
    readonly system: BootedSystem;
}

/**
 * Boots `container` on `suite` in the calling describe block's beforeAll and stops it, then its lab, in its
 * afterAll (also when a test fails). Reading a field before beforeAll has run throws, naming it.
 */
export function bootedContainerFor(suite: Suite, container: string): BootedContainer {
    const state: Partial<BootedContainer> = {};
    beforeAll(async () => {
        const plan = await privatePlan();
        const l = lab();
        Object.assign(state, { plan, lab: l });
        Object.assign(state, { system: await bootContainer(l, suite, container) });
    }, 180_000);
    afterAll(async () => {
        await state.system?.stop();
        state.lab?.stop();
    }, 60_000);
    const read = <K extends keyof BootedContainer>(key: K): BootedContainer[K] => {
        const value = state[key];
        if (value === undefined)
            throw new Error(`${container} on ${suite}: no ${key} yet (its beforeAll failed or has not run)`);
        return value;
    };
    return {
        get plan() {
            return read("plan");
        },
        get lab() {
            return read("lab");
        },
        get system() {
            return read("system");
        },
    };
}

export interface DoubleRun {
    /** Each set-up's first run, by name: exit code and output. */
    first: Map<string, RunResult>;
    /** Each set-up's second run, by name. */
    second: Map<string, RunResult>;
    /** What the second run changed (empty when idempotent). */
    changes: string[];
}

export interface DoubleRunOptions {
    /**
     * Set-ups that must fail, by name, on both runs, with output matching the pattern (a source outside
     * Debian's archive that cannot be reached here); the runs go on with the next set-up.
     */
    expect?: Readonly<Record<string, RegExp>>;
}

/** Checks one run of a set-up: success, or the failure `expected` names. */
function checkRun(system: BootedSystem, name: string, run: string, r: RunResult, expected?: RegExp): void {
    const output = `${r.stdout}\n${r.stderr}`;
    if (expected === undefined) {
        if (r.code !== 0)
            throw new Error(`${name}'s ${run} run failed on ${system.suite} (exit ${r.code}):\n${output}`);
    } else if (r.code === 0 || !expected.test(output)) {
        throw new Error(
            `${name}'s ${run} run on ${system.suite} should fail with ${String(expected)}, exited ${r.code}:\n${output}`,
        );
    }
}

/**
 * Runs each set-up once (each must succeed, or fail as `opts.expect` says), then all of them again, and
 * reports what the second pass changed.
 */
export async function runTwice(
    system: BootedSystem,
    setups: PlannedSetup[],
    opts: DoubleRunOptions = {},
): Promise<DoubleRun> {
    const unknown = Object.keys(opts.expect ?? {}).filter((n) => !setups.some((s) => s.name === n));
    if (unknown.length > 0) throw new Error(`runTwice: no set-up ${unknown.join(", ")} among those given`);
    const first = new Map<string, RunResult>();
    const second = new Map<string, RunResult>();
    for (const s of setups) {
        const r = await runSetup(system, s);
        first.set(s.name, r);
        checkRun(system, s.name, "first", r, opts.expect?.[s.name]);
    }
    const before = await snapshot(system);
    for (const s of setups) {
        const r = await runSetup(system, s);
        second.set(s.name, r);
        checkRun(system, s.name, "second", r, opts.expect?.[s.name]);
    }
    return { first, second, changes: await changesSince(system, before) };
}

/** The set-ups the plan sends to a container, by name suffix when `only` is given. */
export function containerSetups(plan: PlannedStack, container: string, only?: string[]): PlannedSetup[] {
    const all = setupsFor(plan, addressOf(container));
    return only ? all.filter((s) => only.some((o) => s.name === `${container}-${o}`)) : all;
}

/**
 * systemd.exec options that make a service start in its own mount namespace (systemd's
 * exec_needs_mount_namespace(), src/core/namespace.c and execute.c). In an unprivileged Proxmox container
 * without nesting, AppArmor refuses those mounts and such a service fails with 226/NAMESPACE; pve-container
 * warns for every systemd ≥ 252 guest without nesting for that reason (PVE::LXC::Setup::Base
 * check_systemd_nesting).
 */
const MOUNT_NAMESPACE_OPTIONS: Record<string, (value: string) => boolean> = {
    PrivateTmp: (v) => v === "yes",
    PrivateDevices: (v) => v === "yes",
    PrivateMounts: (v) => v === "yes",
    ProtectSystem: (v) => v !== "no" && v !== "",
    ProtectHome: (v) => v !== "no" && v !== "",
    ProtectKernelTunables: (v) => v === "yes",
    ProtectKernelModules: (v) => v === "yes",
    ProtectControlGroups: (v) => v === "yes",
    ReadWritePaths: (v) => v !== "",
    ReadOnlyPaths: (v) => v !== "",
    InaccessiblePaths: (v) => v !== "",
};

/** The active services that would start (or started) in a mount namespace of their own, sorted. */
export async function mountNamespacedServices(system: BootedSystem): Promise<string[]> {
    const props = ["Id", ...Object.keys(MOUNT_NAMESPACE_OPTIONS)].join(",");
    const shown = await system.sh(`systemctl show --type=service --state=active --property=${props} '*'`);
    const found: string[] = [];
    for (const block of shown.split("\n\n")) {
        const values = new Map(block.split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
        const id = values.get("Id");
        const needs = Object.entries(MOUNT_NAMESPACE_OPTIONS).some(([k, test]) => test(values.get(k) ?? ""));
        if (id && needs) found.push(id);
    }
    return found.sort();
}

/**
 * The role's nesting decision against the booted container: its services that need a mount namespace include
 * systemd-logind and `roleUnits`, the role's default turns nesting on, and its stated reason names each of them.
 */
export async function expectNestingFor(system: BootedSystem, role: LxcRole, roleUnits: string[]): Promise<void> {
    const units = await mountNamespacedServices(system);
    const expected = ["systemd-logind.service", ...roleUnits];
    expect(units).toEqual(expect.arrayContaining(expected));
    expect(ROLE_DEFAULTS[role].nesting).toBe(true);
    for (const unit of expected) expect(ROLE_DEFAULTS[role].nestingWhy).toContain(unit.replace(/\.service$/, ""));
}
