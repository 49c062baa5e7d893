// The host check with a stand-in `ssh` (the e2e suite runs it against a real OpenSSH server): the
// options it logs in with, the verdict it reads, and the message for a refusal and for no login.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HostCheckError, checkHost, CheckTarget } from "../../../components/host/check";

/** An `ssh` that records its arguments and stdin, then prints `stdout`/`stderr` and exits `code`. */
function fakeSsh(stdout: string, stderr = "", code = 0): { bin: string; args: () => string[]; stdin: () => string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-fake-ssh-"));
    const bin = path.join(dir, "ssh");
    fs.writeFileSync(
        bin,
        `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > "${dir}/args"\ncat > "${dir}/stdin"\nprintf '%s' '${stdout}'\nprintf '%s' '${stderr}' >&2\nexit ${code}\n`,
        { mode: 0o755 },
    );
    return {
        bin,
        args: () => fs.readFileSync(path.join(dir, "args"), "utf8").trim().split("\n"),
        stdin: () => fs.readFileSync(path.join(dir, "stdin"), "utf8"),
    };
}

const target: CheckTarget = {
    node: "pve1",
    ssh: { address: "192.168.1.10", port: 2222, user: "root", hostKey: "ssh-ed25519 AAAAHostKey" },
    privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZQ==\n-----END OPENSSH PRIVATE KEY-----",
    script: "echo check\n",
};

test("logs in without prompts, with the pinned host key, and sends the check on stdin", async () => {
    const ssh = fakeSsh("ai-dualstack[private]: reboot-required=yes (kernel argument iommu=pt is not active)\n");
    const status = await checkHost(target, ssh.bin);
    expect(status).toEqual({ required: true, reasons: ["kernel argument iommu=pt is not active"] });
    const args = ssh.args();
    expect(args).toEqual(expect.arrayContaining(["BatchMode=yes", "StrictHostKeyChecking=yes", "IdentitiesOnly=yes"]));
    expect(args.slice(-2)).toEqual(["root@192.168.1.10", "bash -s"]);
    expect(args[args.indexOf("-p") + 1]).toBe("2222");
    expect(ssh.stdin()).toBe("echo check\n");
});

test("a refusal carries the check's own message; no login says what to check; no verdict is an error", async () => {
    const refused = checkHost(
        target,
        fakeSsh("", "ai-dualstack[private]: ERROR: no PCI device at 0000:01:00.0", 1).bin,
    );
    await expect(refused).rejects.toThrow(
        'the host check of node "pve1" stopped the run, and nothing was changed:\nai-dualstack[private]: ERROR: no PCI device at 0000:01:00.0',
    );
    const unreachable = checkHost(
        target,
        fakeSsh("", "ssh: connect to host 192.168.1.10 port 2222: No route to host", 255).bin,
    );
    await expect(unreachable).rejects.toThrow(
        "cannot log in to root@192.168.1.10:2222 over SSH (ssh: connect to host 192.168.1.10 port 2222: No route to host); check nodes.pve1.address, sshPort and sshUser",
    );
    await expect(checkHost(target, fakeSsh("hello\n").bin)).rejects.toBeInstanceOf(HostCheckError);
});
