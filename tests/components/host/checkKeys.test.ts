// The host check's key handling against a stand-in `ssh` that records how it was called: this key
// alone, no agent forwarded, the pinned host key when there is one, and the key file gone afterwards.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HostCheckError, checkHost } from "../../../components/host/check";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ncHJvYmUta2V5\n-----END OPENSSH PRIVATE KEY-----";

/** A fake ssh that saves its arguments, its key file's mode and text, then prints `verdict`. */
function fakeSsh(verdict: string, status = 0) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-fake-ssh-"));
    const bin = path.join(dir, "ssh");
    const log = path.join(dir, "args");
    fs.writeFileSync(
        bin,
        [
            "#!/usr/bin/env bash",
            `printf '%s\\n' "$@" > ${log}`,
            'key=""; prev=""; for a in "$@"; do [ "$prev" = -i ] && key="$a"; prev="$a"; done',
            `stat -c %a "$key" > ${log}.mode; cp "$key" ${log}.key; echo "$key" > ${log}.path`,
            "cat >/dev/null",
            `printf '%s\\n' '${verdict}'`,
            `exit ${status}`,
        ].join("\n"),
        { mode: 0o755 },
    );
    const read = (suffix = "") => fs.readFileSync(`${log}${suffix}`, "utf8");
    return { bin, args: () => read().trim().split("\n"), read };
}

const target = (hostKey?: string) => ({
    node: "pve1",
    ssh: { address: "192.168.1.10", port: 22, user: "root", ...(hostKey ? { hostKey } : {}) },
    privateKey: KEY,
    script: "echo check",
});

test("logs in with the stack's key alone, forwards no agent, and removes the key file", async () => {
    const ssh = fakeSsh("reboot-required=no");
    await expect(checkHost(target(), ssh.bin)).resolves.toEqual({ required: false, reasons: [] });
    const args = ssh.args();
    const opt = (name: string) => args.filter((a, i) => args[i - 1] === "-o" && a.startsWith(`${name}=`));
    expect(opt("IdentitiesOnly")).toEqual(["IdentitiesOnly=yes"]);
    expect(opt("ForwardAgent")).toEqual(["ForwardAgent=no"]);
    expect(opt("BatchMode")).toEqual(["BatchMode=yes"]);
    expect(opt("StrictHostKeyChecking")).toEqual(["StrictHostKeyChecking=accept-new"]);
    expect(args.slice(-2)).toEqual(["root@192.168.1.10", "bash -s"]);
    expect(ssh.read(".mode").trim()).toBe("600");
    expect(ssh.read(".key")).toBe(`${KEY}\n`);
    expect(fs.existsSync(ssh.read(".path").trim())).toBe(false);
});

test("a pinned host key is checked strictly", async () => {
    const ssh = fakeSsh("reboot-required=yes (kernel args not live)");
    await expect(checkHost(target("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost"), ssh.bin)).resolves.toEqual({
        required: true,
        reasons: ["kernel args not live"],
    });
    expect(ssh.args()).toContain("StrictHostKeyChecking=yes");
});

test("a refusal names the node and says nothing was changed", async () => {
    const ssh = fakeSsh("ai-dualstack: IOMMU is off", 1);
    await expect(checkHost(target(), ssh.bin)).rejects.toThrow(HostCheckError);
});
