// The preview key against a real OpenSSH server on 127.0.0.1 (testing/sshServer.ts), whose sessions run against
// a sandboxed Proxmox root: once the node-side script (components/host/previewAccess.ts) has admitted the key
// with `restrict,command=`, the program's host check over it gets the installed check's verdict, whatever script
// it sends; `cat /etc/shadow` runs the check instead; port forwarding is refused. The unrestricted key of the
// same server does read /etc/shadow, so the refusal is the key's line, not the server.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bootstrapPlan, renderCheckScript } from "../../components/host/bootstrap";
import { checkHost } from "../../components/host/check";
import { previewCheckPath, renderPreviewKeyScript } from "../../components/host/previewAccess";
import { resolveNode } from "../../config/resolve";
import { NodeConfig } from "../../config/schema";
import { findSshd, SshServer, startSshServer } from "../../testing/sshServer";
import { parsedConfig } from "../helpers/config";
import { makeSandbox, Sandbox } from "../helpers/sandbox";

const sshd = findSshd();
if (!sshd && process.env["CI"]) throw new Error("openssh-server is not installed; .ci/run installs it");

const cfg = parsedConfig("private");
const node = resolveNode("pve1", cfg.nodes["pve1"] as NodeConfig, "private");
const ARGS = "intel_iommu=on iommu=pt default_hugepagesz=1G hugepagesz=1G hugepages=64";

(sshd ? describe : describe.skip)("the preview key on a real sshd", () => {
    let sb: Sandbox;
    let server: SshServer;
    let dir: string;
    let previewKey: string;

    /** ssh with one key to the test's server, running `remote`; the host key pinned. */
    function ssh(key: string, remote: string[], extra: string[] = []) {
        const known = path.join(dir, "known_hosts");
        fs.writeFileSync(known, `[127.0.0.1]:${server.port} ${server.hostKey}\n`);
        return spawnSync(
            "ssh",
            [
                ...["-i", key, "-p", String(server.port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"],
                ...["-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=yes", ...extra],
                `${server.user}@127.0.0.1`,
                ...remote,
            ],
            { encoding: "utf8", timeout: 30_000 },
        );
    }

    beforeAll(async () => {
        const plan = bootstrapPlan(node, "private", cfg.proxmox);
        sb = makeSandbox(plan.gpuIdentities.map((c) => ({ ...c, driver: "vfio-pci" })));
        sb.setCmdline(`root=/dev/mapper/pve-root ${ARGS}`);
        server = await startSshServer(sshd as string, {
            PATH: `${path.join(sb.root, "stand-in-bin")}:/usr/bin:/bin`,
            AIDS_ROOT: sb.root,
        });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-preview-key-"));
        previewKey = path.join(dir, "preview");
        spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "aids-private-preview", "-f", previewKey]);
        fs.writeFileSync(path.join(dir, "root"), server.privateKey, { mode: 0o600 });
        const pub = fs.readFileSync(`${previewKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
        // The check as the node keeps it: this client (127.0.0.1) a management source, paths in the sandbox.
        const check = renderCheckScript({
            ...plan,
            managementSources: [...plan.managementSources, "127.0.0.0/8"],
            sandboxRoot: sb.root,
        });
        const install = spawnSync("bash", ["-s"], {
            input: renderPreviewKeyScript("private", "apply", check, pub, {
                authorizedKeys: server.authorizedKeys,
                root: sb.root,
            }),
            encoding: "utf8",
        });
        expect(install.stderr).toBe("");
        expect(install.status).toBe(0);
        expect(fs.readFileSync(server.authorizedKeys, "utf8")).toContain(
            `restrict,command="${path.join(sb.root, previewCheckPath("private"))}" ${pub} aids-private-preview`,
        );
    }, 60_000);

    afterAll(async () => {
        await server?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test("the program's host check over the preview key gets the installed check's verdict, not its own script's", async () => {
        const status = await checkHost({
            node: "pve1",
            ssh: { address: "127.0.0.1", port: server.port, user: server.user, hostKey: server.hostKey },
            privateKey: fs.readFileSync(previewKey, "utf8"),
            // What a branch's program might send instead: ignored, the node runs its own copy.
            script: 'echo "ai-dualstack[private]: reboot-required=yes (the client\'s own script ran)"\n',
        });
        expect(status).toEqual({ required: false, reasons: [] });
    }, 60_000);

    test("`cat /etc/shadow` with the preview key runs the host check instead; with the root key it reads the file", () => {
        const refused = ssh(previewKey, ["cat", "/etc/shadow"]);
        expect(refused.status).toBe(0);
        expect(refused.stdout).toContain("ai-dualstack[private]: reboot-required=no");
        expect(refused.stdout).not.toMatch(/^root:/m);
        const control = ssh(path.join(dir, "root"), ["cat", "/etc/shadow"]);
        expect(control.status).toBe(0);
        expect(control.stdout).toMatch(/^root:/m);
    }, 60_000);

    test("port forwarding with the preview key is refused (restrict)", () => {
        const r = ssh(previewKey, [], ["-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:22"]);
        expect(r.status).toBe(255);
        expect(r.stderr).toMatch(/remote port forwarding failed/);
    }, 60_000);
});
