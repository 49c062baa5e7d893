// The host check: before the program registers anything, it runs the read-only check
// (scripts/host-check.sh) on each node over SSH, with the system `ssh`. A fact that a reboot cannot
// fix fails the program then, so a refused config changes nothing; otherwise the verdict (a reboot
// pending or not) is a plain value the stack builds from: deterministic inputs, clean previews,
// and the VMs' workloads and gates waiting for the reboot instead of failing on a stopped VM.

import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { NodeMemoryFit, measuredMemoryRefusal } from "../../config/memory";
import { NodeModel } from "../../config/resolve";
import { RebootStatus, parseRebootStatus } from "./bootstrap";

export type HostStatus = RebootStatus;

/** Where the check logs in: the node's SSH settings and the stack's private key (plain text). */
export interface CheckTarget {
    readonly node: string;
    readonly ssh: NodeModel["ssh"];
    readonly privateKey: string;
    /** The rendered check script (renderCheckScript). */
    readonly script: string;
    /** The environment's guests against its share of the node, judged with the MemTotal the script reads. */
    readonly memory?: NodeMemoryFit;
}

/**
 * The memory refusal for the MemTotal the check read (its `memtotal-kib=` line), worded as the
 * script words its own; undefined when the node has the RAM the config counts on.
 */
export function memoryRefusal(t: CheckTarget, stdout: string): string | undefined {
    const kib = /: memtotal-kib=(\d+)$/m.exec(stdout)?.[1];
    if (!t.memory || kib === undefined) return undefined;
    const refusal = measuredMemoryRefusal(t.memory, Number(kib));
    return refusal && `ai-dualstack[${t.memory.environment}]: ERROR: ${refusal}`;
}

/** A host check that refused: the node, and the check's own message (a RunError: no stack trace). */
export class HostCheckError extends pulumi.RunError {
    constructor(
        readonly node: string,
        detail: string,
    ) {
        super(`the host check of node "${node}" stopped the run, and nothing was changed:\n${detail.trim()}`);
        this.name = "HostCheckError";
    }
}

/**
 * The ssh options: no prompts, this key alone (never the agent's others), no agent forwarded; the
 * pinned host key when there is one (else a throwaway known_hosts).
 */
export function sshArgs(t: CheckTarget, dir: string): string[] {
    const knownHosts = path.join(dir, "known_hosts");
    const host = t.ssh.port === 22 ? t.ssh.address : `[${t.ssh.address}]:${t.ssh.port}`;
    if (t.ssh.hostKey) fs.writeFileSync(knownHosts, `${host} ${t.ssh.hostKey}\n`);
    return [
        ...["-i", path.join(dir, "key"), "-p", String(t.ssh.port)],
        ...["-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "IdentitiesOnly=yes", "-o", "ForwardAgent=no"],
        ...["-o", `UserKnownHostsFile=${knownHosts}`],
        ...["-o", `StrictHostKeyChecking=${t.ssh.hostKey ? "yes" : "accept-new"}`],
        `${t.ssh.user}@${t.ssh.address}`,
        "bash -s",
    ];
}

/** What to look at when the check cannot log in at all. */
function unreachable(t: CheckTarget, detail: string): string {
    return `cannot log in to ${t.ssh.user}@${t.ssh.address}:${t.ssh.port} over SSH (${detail.trim()}); check nodes.${t.node}.address, sshPort and sshUser, that the node's authorized_keys holds the public half of sshPrivateKey, and sshHostKey if pinned`;
}

/** Runs the check on one node and reads its verdict; a refusal or an unreachable node throws. */
export function checkHost(t: CheckTarget, sshBinary = "ssh"): Promise<HostStatus> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-check-"));
    fs.writeFileSync(path.join(dir, "key"), t.privateKey.endsWith("\n") ? t.privateKey : `${t.privateKey}\n`, {
        mode: 0o600,
    });
    return new Promise<HostStatus>((resolve, reject) => {
        const child = execFile(sshBinary, sshArgs(t, dir), { timeout: 120_000 }, (err, stdout, stderr) => {
            fs.rmSync(dir, { recursive: true, force: true });
            // ssh exits 255 on its own failure (no route, refused, key not accepted), else the script's status.
            if (err && err.code === 255) reject(new HostCheckError(t.node, unreachable(t, stderr || err.message)));
            else if (err) reject(new HostCheckError(t.node, stderr || err.message));
            else if (!stdout.includes("reboot-required="))
                reject(new HostCheckError(t.node, `no verdict:\n${stdout}${stderr}`));
            else {
                const refusal = memoryRefusal(t, stdout);
                if (refusal) reject(new HostCheckError(t.node, refusal));
                else resolve(parseRebootStatus(stdout));
            }
        });
        // With the preview key the node runs its installed check instead (authorized_keys `command=`) and may
        // close the session before reading this: the script is then not needed, and EPIPE is no failure.
        child.stdin?.on("error", () => undefined);
        child.stdin?.end(t.script);
    });
}
