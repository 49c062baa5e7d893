// The restore drill: its dry run for every stateful guest of both stacks (each API call and command
// printed, nothing run), its refusals, and its logic against a scripted node: the latest backup is
// the one restored, a failed check fails the drill, and the scratch guest is removed every time.

import { DrillTarget, cleanupSteps, latestBackup } from "../../tools/restoreDrillSteps";
import { RunResult, drill, drillMetrics, loadTarget, main } from "../../tools/restoreDrill";
import { statefulGuests } from "../../config/rules/backup";
import { parsedConfig } from "../helpers/config";

async function runMain(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const lines: string[] = [];
    const errors: string[] = [];
    const spy = jest.spyOn(console, "error").mockImplementation((m: unknown) => void errors.push(String(m)));
    try {
        const code = await main(argv, (l) => lines.push(l));
        return { code, out: lines.join("\n"), err: errors.join("\n") };
    } finally {
        spy.mockRestore();
    }
}

const covered = (["private", "public"] as const).flatMap((stack) =>
    statefulGuests(parsedConfig(stack))
        .filter((g) => !g.name.endsWith("-redis"))
        .map((g) => ({ stack, guest: g.name, kind: g.kind })),
);

test("the stateful guests of the shipped stacks are the ones the dry runs cover", () => {
    expect(covered.map((c) => c.guest).sort()).toEqual([
        "private-ai",
        "private-postgres",
        "public-ai",
        "public-postgres",
    ]);
});

describe.each(covered)("dry run of $stack/$guest", ({ stack, guest, kind }) => {
    test("prints every API call and command, in order, and ends with the clean-up", async () => {
        const { code, out } = await runMain(["--stack", stack, "--guest", guest, "--dry-run"]);
        expect(code).toBe(0);
        const env = stack === "private" ? { id: 199, bridge: "aidsdrill1" } : { id: 299, bridge: "aidsdrill2" };
        const vmid = { "private-ai": 110, "private-postgres": 120, "public-ai": 210, "public-postgres": 220 }[guest];
        const commands = out
            .split("\n")
            .filter((l) => l.startsWith("  $ "))
            .map((l) => l.replace("  $ ssh -p 22 root@192.168.1.10 ", ""));
        const lxc = kind === "containers";
        const expected = [
            `pvesh get /nodes/pve1/storage/pbs-${stack}/content --content backup --vmid ${vmid} --output-format json`,
            `pvesh get /cluster/nextid --vmid ${env.id}`,
            `ip link show ${env.bridge} >/dev/null 2>&1 || ip link add ${env.bridge} type bridge; ip link set ${env.bridge} up`,
            lxc
                ? `pct restore ${env.id} <latest backup of ct/${vmid} on pbs-${stack}> --storage tank-${stack} --unique 1`
                : `qmrestore <latest backup of vm/${vmid} on pbs-${stack}> ${env.id} --storage tank-${stack} --unique 1`,
        ];
        expect(commands.slice(0, 4)).toEqual(expected);
        // Cut off the network: the only NIC on the bridge without uplink.
        expect(commands[4]).toContain(
            lxc ? `--net0 name=eth0,bridge=${env.bridge}` : `--net0 virtio,bridge=${env.bridge}`,
        );
        if (!lxc) expect(commands[4]).toContain("--delete hugepages");
        expect(commands[5]).toBe(lxc ? `pct start ${env.id}` : `qm start ${env.id}`);
        expect(commands[6]).toBe(lxc ? `pct exec ${env.id} -- true` : `qm agent ${env.id} ping`);
        expect(commands[7]).toContain(guest.endsWith("postgres") ? "FROM backup_runs" : "systemctl is-active docker");
        expect(commands.slice(8)).toEqual([
            lxc
                ? `pct status ${env.id} >/dev/null 2>&1 && { pct stop ${env.id} --skiplock 1 || true; pct destroy ${env.id} --purge 1; } || true`
                : `qm status ${env.id} >/dev/null 2>&1 && { qm stop ${env.id} --skiplock 1 || true; qm destroy ${env.id} --purge 1 --skiplock 1; } || true`,
            `ip link del ${env.bridge} 2>/dev/null || true`,
        ]);
        expect(out).toContain(`restore drill ${stack}/${guest}`);
        expect(out).toContain("DRY RUN (nothing ran)");
        // No step ran: none is reported "ok", and no time is made up for it.
        expect(out).not.toMatch(/^ {2}ok /m);
        expect(out).not.toMatch(/ s {2}/);
        expect(out).toMatch(/^ {2}not run {5}\S/m);
    });
});

test("a guest that opted out, an unknown one and bad arguments are refused", async () => {
    const redis = await runMain(["--stack", "private", "--guest", "private-redis", "--dry-run"]);
    expect(redis.code).toBe(1);
    expect(redis.err).toBe(
        "restore-drill: private-redis is not covered by the private backup job (covered: private-ai, private-postgres)",
    );
    expect((await runMain(["--stack", "private", "--dry-run"])).code).toBe(2);
    expect((await runMain(["--stack", "private", "--guest", "x", "--bogus"])).err).toContain(
        "unknown argument --bogus",
    );
    const help = await runMain(["--help"]);
    expect(help.code).toBe(0);
});

/** A node that answers from a script of prefixes; records every command. */
function scriptedNode(answers: [string, Partial<RunResult>][]) {
    const calls: string[] = [];
    const run = (command: string): Promise<RunResult> => {
        calls.push(command);
        const hit = answers.find(([prefix]) => command.startsWith(prefix))?.[1] ?? {};
        return Promise.resolve({ code: 0, stdout: "", stderr: "", ...hit });
    };
    return { calls, run };
}

const BACKUPS = JSON.stringify([
    { volid: "pbs-private:backup/ct/120/2026-11-25T02:30:00Z", ctime: 1764037800 },
    { volid: "pbs-private:backup/ct/120/2026-11-27T02:30:00Z", ctime: 1764210600 },
    { volid: "pbs-private:backup/ct/120/2026-11-26T02:30:00Z", ctime: 1764124200 },
]);

describe("against a scripted node", () => {
    const target = loadTarget({ stack: "private", guest: "private-postgres", dryRun: false }) as DrillTarget;
    const cleanup = cleanupSteps(target).map((s) => s.command);

    test("the latest backup is restored, the check passes, and the scratch guest is removed", async () => {
        const node = scriptedNode([
            ["pvesh get /nodes", { stdout: BACKUPS }],
            ["pct exec 199 -- bash", { stdout: "3 runs, newest 2026-11-27 01:30:00+00\n" }],
        ]);
        const result = await drill(target, node.run, false, () => undefined);
        expect(result.passed).toBe(true);
        expect(node.calls).toContain(
            "pct restore 199 pbs-private:backup/ct/120/2026-11-27T02:30:00Z --storage tank-private --unique 1",
        );
        expect(node.calls.slice(-2)).toEqual(cleanup);
        expect(result.times.find((t) => t.step.startsWith("check"))?.detail).toBe(
            "3 runs, newest 2026-11-27 01:30:00+00",
        );
    });

    test("a failed restore fails the drill, and the clean-up still runs", async () => {
        const node = scriptedNode([
            ["pvesh get /nodes", { stdout: BACKUPS }],
            ["pct restore", { code: 255, stderr: "unable to restore: datastore unreachable" }],
        ]);
        const result = await drill(target, node.run, false, () => undefined);
        expect(result.passed).toBe(false);
        expect(node.calls.some((c) => c.startsWith("pct start"))).toBe(false);
        expect(node.calls.slice(-2)).toEqual(cleanup);
        expect(result.times.find((t) => !t.ok)).toMatchObject({
            step: "restore",
            detail: "unable to restore: datastore unreachable",
        });
    });

    test("no backup at all fails the drill with the reason", async () => {
        const node = scriptedNode([["pvesh get /nodes", { stdout: "[]" }]]);
        const result = await drill(target, node.run, false, () => undefined);
        expect(result.passed).toBe(false);
        expect(result.times.map((t) => t.detail)).toContain("no backup of 120 on pbs-private");
        expect(node.calls.slice(-2)).toEqual(cleanup);
    });

    test("latestBackup picks the newest by creation time", () => {
        expect(latestBackup(BACKUPS)).toBe("pbs-private:backup/ct/120/2026-11-27T02:30:00Z");
        expect(latestBackup("[]")).toBeUndefined();
    });
});

test("the drill's result as textfile metrics", () => {
    const target = loadTarget({ stack: "public", guest: "public-postgres", dryRun: false }) as DrillTarget;
    expect(drillMetrics(target, true, 83.25, 1764210600)).toBe(
        [
            "# HELP aidualstack_restore_drill_last_run_timestamp_seconds When the restore drill last ran.",
            "# TYPE aidualstack_restore_drill_last_run_timestamp_seconds gauge",
            'aidualstack_restore_drill_last_run_timestamp_seconds{stack="public",guest="public-postgres"} 1764210600',
            "# HELP aidualstack_restore_drill_last_run_success Whether it passed (1) or not (0).",
            "# TYPE aidualstack_restore_drill_last_run_success gauge",
            'aidualstack_restore_drill_last_run_success{stack="public",guest="public-postgres"} 1',
            "# HELP aidualstack_restore_drill_duration_seconds How long it took, clean-up included.",
            "# TYPE aidualstack_restore_drill_duration_seconds gauge",
            'aidualstack_restore_drill_duration_seconds{stack="public",guest="public-postgres"} 83.3',
            "",
        ].join("\n"),
    );
});

test("a VM's check passes only when the guest's own command exited 0", async () => {
    const target = loadTarget({ stack: "public", guest: "public-ai", dryRun: false }) as DrillTarget;
    const backups = JSON.stringify([{ volid: "pbs-public:backup/vm/210/2026-11-27T02:45:00Z", ctime: 1 }]);
    const failing = scriptedNode([
        ["pvesh get /nodes", { stdout: backups }],
        ["qm guest exec", { stdout: '{"exitcode":3,"exited":1,"out-data":"inactive"}' }],
    ]);
    const timers = jest.useFakeTimers({ doNotFake: ["nextTick", "setImmediate"] });
    const pending = drill(target, failing.run, false, () => undefined);
    // The check polls every 5 s for up to 180 s: let the clock run out.
    for (let i = 0; i < 60; i++) await jest.advanceTimersByTimeAsync(5_000);
    const result = await pending;
    timers.useRealTimers();
    expect(result.passed).toBe(false);
    expect(failing.calls.slice(-2)).toEqual(cleanupSteps(target).map((s) => s.command));
    const passing = scriptedNode([
        ["pvesh get /nodes", { stdout: backups }],
        ["qm guest exec", { stdout: '{"exitcode":0,"exited":1,"out-data":"active"}' }],
    ]);
    expect((await drill(target, passing.run, false, () => undefined)).passed).toBe(true);
});
