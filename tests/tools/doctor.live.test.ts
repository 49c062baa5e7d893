// The doctor's SSH check against a real OpenSSH server on 127.0.0.1 (testing/sshServer.ts), through
// the same ssh options the host check uses: the right pinned host key logs in, another is refused.
// Skipped on a workstation without openssh-server; fails under CI.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sshRunner } from "../../tools/doctor";
import { checkSsh } from "../../tools/doctorChecks";
import { SshServer, findSshd, startSshServer } from "../../testing/sshServer";

const sshd = findSshd();
if (!sshd && process.env["CI"]) throw new Error("openssh-server is not installed; .ci/run installs it");
const suite = sshd ? describe : describe.skip;

/** A host key that is not the server's, as ssh-keyscan prints it. */
function otherHostKey(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-otherkey-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
    const [type, key] = fs.readFileSync(path.join(dir, "k.pub"), "utf8").trim().split(/\s+/);
    fs.rmSync(dir, { recursive: true, force: true });
    return `${type ?? ""} ${key ?? ""}`;
}

suite("ssh to a node, against a loopback sshd", () => {
    let server: SshServer;
    beforeAll(async () => {
        server = await startSshServer(sshd as string);
    }, 30_000);
    afterAll(() => server?.stop());

    const target = (hostKey: string) => ({
        node: "pve1",
        address: server.host,
        port: server.port,
        user: server.user,
        hostKey,
    });

    test("the pinned host key and the configured key: ok", async () => {
        const f = await checkSsh(sshRunner(server.privateKey), target(server.hostKey));
        expect(f).toEqual({
            check: "ssh pve1",
            ok: true,
            detail: `${server.user}@127.0.0.1:${server.port} with the pinned host key`,
        });
    }, 30_000);

    test("another pinned host key: refused before logging in, with the fix", async () => {
        const f = await checkSsh(sshRunner(server.privateKey), target(otherHostKey()));
        expect(f.ok).toBe(false);
        expect(f.advisory).toBeUndefined();
        expect(f.detail).toContain(
            `${server.user}@127.0.0.1:${server.port} answered with a host key other than nodes.pve1.sshHostKey`,
        );
        expect(f.detail).toContain("pin the new key");
    }, 30_000);

    test("a key the node does not accept: refused, naming authorized_keys", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-stranger-"));
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
        const stranger = fs.readFileSync(path.join(dir, "k"), "utf8");
        fs.rmSync(dir, { recursive: true, force: true });
        const f = await checkSsh(sshRunner(stranger), target(server.hostKey));
        expect(f.ok).toBe(false);
        expect(f.detail).toContain("refused the key");
    }, 30_000);
});
