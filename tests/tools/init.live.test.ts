// `npm run init` end to end over real SSH: an OpenSSH server on 127.0.0.1 (testing/sshServer.ts)
// whose sessions read a recorded node (tests/helpers/initHost.ts, through AIDS_ROOT and stand-in
// tools on PATH). init reads it, prints the diff of a temporary copy of Pulumi.yaml, and writes it
// only with --yes; a node with IOMMU off is refused and nothing is written. The node's files are
// compared before and after: init never writes there.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { NodeSchema } from "../../config/schema/host";
import { main } from "../../tools/init";
import { findSshd, SshServer, startSshServer } from "../../testing/sshServer";
import { makeRecordedHost, RecordedHost } from "../helpers/initHost";

const sshd = findSshd();
if (!sshd && process.env["CI"]) throw new Error("openssh-server is not installed; .ci/run installs it");
const PROJECT_YAML = path.join(__dirname, "../../Pulumi.yaml");

/** Every file and link under the node's root, with its content or target. */
function tree(root: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, entry.name);
            if (entry.isSymbolicLink()) out[path.relative(root, p)] = `-> ${fs.readlinkSync(p)}`;
            else if (entry.isDirectory()) walk(p);
            else out[path.relative(root, p)] = fs.readFileSync(p, "utf8");
        }
    };
    walk(root);
    return out;
}

(sshd ? describe : describe.skip)("init over real SSH against a recorded node", () => {
    let host: RecordedHost;
    let server: SshServer;
    let dir: string;
    let file: string;
    let out: string[];
    let err: string[];

    beforeEach(async () => {
        host = makeRecordedHost();
        server = await startSshServer(sshd as string, { PATH: `${host.bin}:/usr/bin:/bin`, AIDS_ROOT: host.root });
        // The node's own copy of its host key, as sshd serves it.
        host.write("etc/ssh/ssh_host_ed25519_key.pub", `${server.hostKey} root@pve1\n`);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-init-client-"));
        fs.writeFileSync(path.join(dir, "key"), server.privateKey, { mode: 0o600 });
        fs.writeFileSync(path.join(dir, "known_hosts"), `[${server.host}]:${server.port} ${server.hostKey}\n`);
        file = path.join(dir, "Pulumi.yaml");
        fs.copyFileSync(PROJECT_YAML, file);
        out = [];
        err = [];
        jest.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
        jest.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
    });

    afterEach(async () => {
        jest.restoreAllMocks();
        await server.stop();
    });

    const args = (...more: string[]) => [
        ...["--host", `${server.user}@${server.host}`, "--port", String(server.port)],
        ...["--identity", path.join(dir, "key"), "--known-hosts", path.join(dir, "known_hosts")],
        ...["--file", file],
        ...more,
    ];

    test("the diff first; with --yes the node's facts are written, and the node is not touched", async () => {
        const before = tree(host.root);
        // Without --yes (and no terminal to ask on) nothing is written.
        expect(await main(args())).toBe(0);
        expect(err.join("\n")).toBe("");
        expect(fs.readFileSync(file, "utf8")).toBe(fs.readFileSync(PROJECT_YAML, "utf8"));
        const diff = out.join("\n");
        expect(diff).toContain("-        address: 192.168.1.10\n+        address: 127.0.0.1");
        expect(diff).toContain("+              - /dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7HENJ0W500001");
        expect(diff).toContain("-            uplink: enp5s0\n+            uplink: enp6s0");
        expect(diff).toContain("+      majorVersion: 9");
        expect(diff).toContain("Nothing written (run again with --yes to write).");

        out = [];
        expect(await main(args("--yes"))).toBe(0);
        expect(err.join("\n")).toBe("");
        const written = parse(fs.readFileSync(file, "utf8")) as {
            config: { proxmox: { value: { majorVersion: number } }; nodes: { value: Record<string, unknown> } };
        };
        const node = NodeSchema.parse(written.config.nodes.value["pve1"]);
        expect(node.address).toBe("127.0.0.1");
        expect(node.sshUser).toBe(server.user);
        expect(node.sshPort).toBe(server.port);
        expect(node.sshHostKey).toBe(server.hostKey);
        expect(node.cpu.threads).toBe(24);
        expect(node.cpu.topology).toEqual({
            performance: "0-7",
            efficiencyClusters: ["8-11", "12-15", "16-19", "20-23"],
        });
        expect(node.memory.totalGiB).toBe(125);
        expect(node.gpus["rtx5090"]).toMatchObject({
            pciAddress: "0000:01:00.0",
            vendorDeviceId: "10de:2b85",
            subsystemId: "1458:416f",
            iommuGroup: 14,
        });
        expect(node.gpus["rtx3060"]?.functions).toEqual([
            { pciAddress: "0000:02:00.1", vendorDeviceId: "10de:228e", subsystemId: "1462:397d" },
        ]);
        expect(node.mirrors["tank-private"]?.disks).toEqual([
            "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7HENJ0W500001",
            "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7HENJ0W500002",
        ]);
        expect(node.bridges["vmbr2"]?.uplink).toBe("enp6s0");
        expect(written.config.proxmox.value.majorVersion).toBe(9);
        // A second run finds nothing to change.
        out = [];
        expect(await main(args("--yes"))).toBe(0);
        expect(out.join("\n")).toContain("nodes.pve1 already matches the node; nothing to write.");
        expect(tree(host.root)).toEqual(before);
    });

    test("IOMMU off: refused with the reason, nothing written", async () => {
        host.remove("sys/kernel/iommu_groups");
        expect(await main(args("--yes"))).toBe(1);
        expect(err.join("\n")).toContain("init: refused, nothing written: IOMMU is off on the node");
        expect(fs.readFileSync(file, "utf8")).toBe(fs.readFileSync(PROJECT_YAML, "utf8"));
    });

    test("a host key that is not the pinned one: no read, nothing written", async () => {
        fs.writeFileSync(
            path.join(dir, "known_hosts"),
            `[${server.host}]:${server.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`,
        );
        expect(await main(args("--yes"))).toBe(1);
        expect(err.join("\n")).toMatch(
            /^init: cannot read \S+ over SSH: Host key verification failed\. \(log in once with `ssh -p \d+ /,
        );
        expect(fs.readFileSync(file, "utf8")).toBe(fs.readFileSync(PROJECT_YAML, "utf8"));
    });
});
