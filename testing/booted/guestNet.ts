// A booted system's own network: the unit that gives the guest its address on the lab before sshd starts, and how a
// boot whose unit failed is explained (the guest is out of reach over SSH then, so its journal is read from the host).

import { ChildProcess, execFileSync } from "child_process";
import * as fs from "fs";

/** Where the guest sits on the lab: its address and prefix, its gateway, and the interface name to give host0. */
export interface GuestAddress {
    address: string;
    prefix: number;
    gateway: string;
    /** The name host0 (nspawn's container end of the veth) takes; default eth0. */
    interface?: string;
}

/** The unit that names host0 (nspawn's container end of the veth) and gives it the guest's address, before sshd starts. */
export function networkUnit(opts: GuestAddress): string {
    const nic = opts.interface ?? "eth0";
    return [
        "[Unit]",
        "Description=ai-dualstack test network (the guest's address from the stack)",
        "Before=network-online.target ssh.service",
        "Wants=network-online.target",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        // Why a step failed goes to the console too, which a failed boot's error carries.
        "StandardOutput=journal+console",
        "StandardError=journal+console",
        ...(nic === "host0" ? [] : [`ExecStart=/sbin/ip link set host0 name ${nic}`]),
        `ExecStart=/sbin/ip addr add ${opts.address}/${opts.prefix} dev ${nic}`,
        `ExecStart=/sbin/ip link set ${nic} up`,
        `ExecStart=/sbin/ip route add default via ${opts.gateway}`,
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}

// systemd's line under a failed start; the one before it truncates the unit's name to the console's width.
export const NET_UNIT_FAILED = /See 'systemctl status aids-test-net\.service' for details/;

/**
 * A unit's journal on a system out of reach over SSH, read from the host: journalctl run in the namespaces of the
 * system's init (nspawn's child). Says why it could not, rather than throwing.
 */
export function unitJournal(nspawn: ChildProcess, unit: string): string {
    try {
        const children = fs.readFileSync(`/proc/${nspawn.pid}/task/${nspawn.pid}/children`, "utf8").trim().split(/\s+/);
        const init = children[0];
        if (!init) return `(no init under systemd-nspawn ${nspawn.pid})`;
        const args = ["--target", init, "--all", "journalctl", "--no-pager", "-o", "short-monotonic", "-b", "-u", unit];
        return execFileSync("nsenter", args, { encoding: "utf8", stdio: "pipe", timeout: 10_000 });
    } catch (err) {
        return `(its journal could not be read: ${String(err)})`;
    }
}
