// The backups in both stacks' plans: each environment's own PBS storage entry (datastore, namespace,
// user, password held secret) and vzdump job (snapshot mode, the configured guests, no prune);
// the PBS server in the private backup container with a datastore volume per environment; the
// application backup timers in the PostgreSQL containers and the VMs; no object shared.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import { parseFingerprint } from "../../../components/backup/backupServer";
import { PlannedStack } from "../../../testing/planStack";
import { one, ofType, runStack } from "../../helpers/pulumi";

let priv: PlannedStack;
let pub: PlannedStack;
beforeAll(async () => {
    priv = await runStack("private");
    pub = await runStack("public");
}, 120_000);

test("each environment's vzdump job: snapshot mode, its configured guests, to its own storage, and never a prune", () => {
    const privJob = one(priv.resources, proxmoxve.backup.Job);
    expect(privJob.inputs).toMatchObject({
        resourceId: "aids-private",
        schedule: "*-*-* 02:30",
        storage: "pbs-private",
        vmids: ["110", "120"],
        mode: "snapshot",
        notesTemplate: "{{guestname}}",
    });
    const pubJob = one(pub.resources, proxmoxve.backup.Job);
    expect(pubJob.inputs).toMatchObject({
        resourceId: "aids-public",
        storage: "pbs-public",
        vmids: ["210", "220"],
        mode: "snapshot",
    });
    // The environment's PBS user holds DatastoreBackup (Datastore.Backup) only, and PBS prunes only
    // with Datastore.Modify, or Datastore.Prune as the group's owner (proxmox-backup
    // src/api2/admin/datastore.rs, prune; the roles in src/config/acl.rs): a job that prunes fails
    // every night. vzdump falls back to the storage's prune-backups (pve-manager PVE/VZDump.pm), so
    // the storage entry keeps all and the PBS prune jobs hold the retention.
    for (const stack of [priv, pub]) {
        const inputs = one(stack.resources, proxmoxve.backup.Job).inputs;
        expect(Object.keys(inputs).filter((k) => /prune|keep|maxfiles/i.test(k))).toEqual([]);
        expect(one(stack.resources, proxmoxve.storage.Pbs).inputs["backups"]).toEqual({ keepAll: true });
    }
});

test("each environment's PBS entry has its own datastore, namespace and user, the password secret", () => {
    for (const [stack, env] of [
        [priv, "private"],
        [pub, "public"],
    ] as const) {
        const pbs = one(stack.resources, proxmoxve.storage.Pbs);
        expect(pbs.inputs).toMatchObject({
            resourceId: `pbs-${env}`,
            server: "10.10.10.25",
            datastore: env,
            namespace: env,
            username: `${env}-backup@pbs`,
            password: `offline-placeholder-pbs${env === "private" ? "Private" : "Public"}Password`,
            contents: ["backup"],
        });
        expect(pbs.secretInputs).toContain("password");
    }
    // The public stack pins the fingerprint from its config; the private one takes it from the setup.
    expect(one(pub.resources, proxmoxve.storage.Pbs).inputs["fingerprint"]).toMatch(/^(00:){31}00$/);
    const setup = one(priv.resources, command.remote.Command, "private-pbs-server-setup");
    expect(one(priv.resources, proxmoxve.storage.Pbs).dependencies).toContain(setup.urn);
});

test("PBS runs in the private backup container, over root SSH, with a datastore volume per environment", () => {
    const setup = one(priv.resources, command.remote.Command, "private-pbs-server-setup");
    expect(setup.inputs["connection"]).toMatchObject({ host: "10.10.10.25", user: "root" });
    expect(setup.secretInputs).toContain("stdin");
    expect(setup.dependencies).toContain(one(priv.resources, command.remote.Command, "private-backup-start").urn);
    const lxc = one(priv.resources, proxmoxve.ContainerLegacy, "private-backup");
    expect(lxc.inputs["mountPoints"]).toEqual([
        { volume: "tank-private", size: "600G", path: "/srv/pbs/private", backup: false },
        { volume: "tank-private", size: "300G", path: "/srv/pbs/public", backup: false },
    ]);
    // Only the private stack runs the server.
    expect(ofType(pub.resources, command.remote.Command).map((r) => r.name)).not.toContain("public-pbs-server-setup");
});

test("the application backup timers: pg_dump in each PostgreSQL container, snapshots in each vector-store VM", () => {
    const cases = [
        [priv, "private-postgres-backup-timer", "10.10.10.20", "root", "bash -s", "private-postgres-data-setup"],
        [pub, "public-postgres-backup-timer", "10.20.20.20", "root", "bash -s", "public-postgres-data-setup"],
        [priv, "private-ai-backup-timer", "10.10.10.10", "ubuntu", "sudo bash -s", undefined],
        [pub, "public-ai-backup-timer", "10.20.20.10", "ubuntu", "sudo bash -s", undefined],
    ] as const;
    for (const [stack, name, host, user, create, after] of cases) {
        const timer = one(stack.resources, command.remote.Command, name);
        expect(timer.inputs["connection"]).toMatchObject({ host, user });
        expect(timer.inputs["create"]).toBe(create);
        if (after) expect(timer.dependencies).toContain(one(stack.resources, command.remote.Command, after).urn);
    }
    // The Qdrant key rides in the private VM's script, so it is secret there; the others hold none.
    expect(one(priv.resources, command.remote.Command, "private-ai-backup-timer").secretInputs).toContain("stdin");
    expect(one(pub.resources, command.remote.Command, "public-ai-backup-timer").secretInputs).not.toContain("stdin");
    const pgStdin = String(
        one(priv.resources, command.remote.Command, "private-postgres-backup-timer").inputs["stdin"],
    );
    expect(pgStdin).toContain("AIDS_JOB='aids-pg-dump'");
    expect(pgStdin).toContain("AIDS_SCHEDULE='*-*-* 01:30'");
    const env = Buffer.from(/AIDS_ENV_B64='([^']*)'/.exec(pgStdin)?.[1] ?? "", "base64").toString("utf8");
    expect(env).toContain('AIDS_BACKUP_NAME="private-postgres"\n');
    expect(env).toContain('AIDS_PG_RUNAS="postgres"\n');
    expect(env).toContain('AIDS_TEXTFILE_DIR="/var/lib/prometheus/node-exporter"\n');
    // In a VM the metrics go where its node-exporter service reads, beside the throughput probe's.
    const vmStdin = String(one(pub.resources, command.remote.Command, "public-ai-backup-timer").inputs["stdin"]);
    const vmEnv = Buffer.from(/AIDS_ENV_B64='([^']*)'/.exec(vmStdin)?.[1] ?? "", "base64").toString("utf8");
    expect(vmEnv).toContain('AIDS_TEXTFILE_DIR="/var/lib/ai-dualstack/textfile"\n');
});

test("the PBS GUI/API port opens to the trusted networks only, and the plan says what is installed", () => {
    const rules = one(priv.resources, proxmoxve.firewall.RulesLegacy, "private-backup-firewall-rules").inputs[
        "rules"
    ] as Record<string, unknown>[];
    const pbsRules = rules.filter((r) => r["dport"] === "8007");
    // The node (on the LAN) runs vzdump against it; the VPN reaches the GUI (its clients masqueraded as the
    // security container, 10.10.10.22, on this subnet). Nothing else.
    expect(pbsRules.map((r) => [r["type"], r["action"], r["proto"], r["source"]])).toEqual([
        ["in", "ACCEPT", "tcp", "10.10.10.22/32"],
        ["in", "ACCEPT", "tcp", "10.8.0.0/24"],
        ["in", "ACCEPT", "tcp", "192.168.1.0/24"],
    ]);
    const lines = priv.resources.map((r) => `${r.name} ${r.description ?? ""}`).join("\n");
    expect(lines).toContain(
        "installs Proxmox Backup Server ≥ 3.4.1-1 from the container's own suite (bookworm (PBS 3) and trixie (PBS 4); release key pinned by fingerprint, never held)",
    );
    expect(lines).toContain("prune *-*-* 03:00, GC *-*-* 03:30, verify sat 04:00");
});

test("the setup's last line is the fingerprint; anything else is unknown", () => {
    const fp = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0")).join(":");
    expect(parseFingerprint(`installing\n${fp.toUpperCase()}\n`)).toBe(fp);
    expect(parseFingerprint("")).toBeUndefined();
    // A `pulumi up --target` that skipped the set-up leaves its stdout undefined (seen under the real engine).
    expect(parseFingerprint(undefined)).toBeUndefined();
    expect(parseFingerprint("done")).toBeUndefined();
});
