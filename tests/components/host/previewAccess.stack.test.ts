// The read-only identity of previews and drift checks (components/host/previewAccess.ts): in the plan, a user
// and privilege-separated token holding PVEAuditor on "/", a key made by ssh-keygen and kept secret, and on
// each node the environment's host check installed with the key admitted to it alone; the node-side script run
// by real bash on a sandboxed authorized_keys (a link, as on Proxmox VE, kept a link), idempotent and removable.

import { execFileSync, spawnSync } from "child_process";
import * as command from "@pulumi/command";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { bootstrapPlan, renderCheckScript, runnerSources } from "../../../components/host/bootstrap";
import {
    previewCheckPath,
    previewNames,
    previewPveumCommands,
    renderPreviewKeyScript,
    splitKeyPair,
} from "../../../components/host/previewAccess";
import { stackModel } from "../../helpers/config";
import { committedPlan } from "../../helpers/planCache";
import { one, ofType } from "../../helpers/pulumi";
import { shellcheckScripts, validator } from "../../helpers/sandbox";

const PUB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPreviewKeyForTests";

describe("in the plan", () => {
    test("private (it creates the monitoring identity, so its deploy identity may): a PVEAuditor user and token on /, nothing more", async () => {
        const plan = await committedPlan("private");
        const names = previewNames("private");
        expect(one(plan.resources, proxmoxve.UserLegacy, "private-preview-user").inputs).toMatchObject({
            userId: "aids-private-preview@pve",
            enabled: true,
        });
        expect(one(plan.resources, proxmoxve.user.Token, "private-preview-token").inputs).toMatchObject({
            userId: names.user,
            tokenName: "preview",
            privilegesSeparation: true,
        });
        const acls = ofType(plan.resources, proxmoxve.Acl)
            .filter((a) => a.name.startsWith("private-preview-"))
            .map((a) => a.inputs);
        expect(acls).toEqual([
            { path: "/", propagate: true, roleId: "PVEAuditor", userId: names.user },
            { path: "/", propagate: true, roleId: "PVEAuditor", tokenId: `${names.user}!preview` },
        ]);
        // No role of its own: PVEAuditor is Proxmox's, and it can change nothing.
        expect(ofType(plan.resources, proxmoxve.RoleLegacy).filter((r) => r.name.includes("preview"))).toEqual([]);
        expect(plan.outputs?.preview?.tokenId).toBe("aids-private-preview@pve!preview");
        expect(plan.outputs?.preview?.apiToken).toBe(
            "aids-private-preview@pve!preview=00000000-0000-0000-0000-000000000000",
        );
    });

    test("public: only the key; its deploy identity may create no user or ACL on / (that would reach private), so the token is made by hand", async () => {
        const plan = await committedPlan("public");
        const made = [...ofType(plan.resources, proxmoxve.UserLegacy), ...ofType(plan.resources, proxmoxve.Acl)];
        expect(made.filter((r) => r.name.startsWith("public-preview-"))).toEqual([]);
        expect(one(plan.resources, command.local.Command, "public-preview-key").inputs["logging"]).toBe("none");
        expect(one(plan.resources, command.remote.Command, "public-preview-pve1-key")).toBeDefined();
        expect(plan.outputs?.preview?.apiToken).toBeUndefined();
        expect(previewPveumCommands("public")).toEqual([
            'pveum user add aids-public-preview@pve --comment "ai-dualstack public: previews and drift checks, read-only"',
            "pveum user token add aids-public-preview@pve preview --privsep 1   # prints the token secret once",
            "pveum acl modify / --users aids-public-preview@pve --tokens 'aids-public-preview@pve!preview' --roles PVEAuditor --propagate 1",
        ]);
    });

    test("the key: ssh-keygen once, its output never logged; on the node, the environment's check and the key admitted to it", async () => {
        const plan = await committedPlan("private");
        const key = one(plan.resources, command.local.Command, "private-preview-key");
        expect(key.inputs["logging"]).toBe("none");
        expect(key.inputs["create"]).toContain("ssh-keygen -q -t ed25519 -N '' -C aids-private-preview");
        const install = one(plan.resources, command.remote.Command, "private-preview-pve1-key");
        expect(install.inputs["connection"]).toMatchObject({ host: "192.168.1.10", user: "root" });
        const bootstrap = one(plan.resources, command.remote.Command, "private-pve1-bootstrap");
        expect(install.dependencies).toContain(bootstrap.urn);
        // The check it installs is the one this run renders, the runner admitted as a management source.
        const model = stackModel("private");
        const node = model.nodes[0]!;
        const check = renderCheckScript(bootstrapPlan(node, "private", model.proxmox, runnerSources(model.containers)));
        expect(check).toContain("AIDS_MGMT_SOURCES='10.8.0.0/24 10.10.10.23/32'");
        const stdin = install.inputs["stdin"] as string;
        expect(stdin).toContain(`AIDS_CHECK_B64='${Buffer.from(check, "utf8").toString("base64")}'`);
        expect(stdin).toContain("AIDS_PREVIEW_PUBKEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockPreviewKey'");
        expect(install.inputs["delete"]).toMatch(/^printf %s \S+ \| base64 -d \| bash$/);
    });
});

test("splitKeyPair reads ssh-keygen's two files as the key command prints them", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-key-"));
    try {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "aids-private-preview", "-f", `${dir}/key`]);
        const out = fs.readFileSync(`${dir}/key`, "utf8") + fs.readFileSync(`${dir}/key.pub`, "utf8");
        const pair = splitKeyPair(out);
        expect(pair.privateKey).toBe(fs.readFileSync(`${dir}/key`, "utf8"));
        expect(`${pair.publicKey} aids-private-preview\n`).toBe(fs.readFileSync(`${dir}/key.pub`, "utf8"));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(() => splitKeyPair("")).toThrow("the preview key's generation printed no OpenSSH key pair");
});

describe("the node-side script (real bash, a sandboxed authorized_keys)", () => {
    let dir: string;
    let keys: string;
    let target: string;
    const OTHER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRootsOwnKey admin@laptop";
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-pk-"));
        // As on Proxmox VE: root's authorized_keys links into /etc/pve/priv.
        target = path.join(dir, "etc/pve/priv/authorized_keys");
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, `${OTHER}\n`);
        keys = path.join(dir, "authorized_keys");
        fs.symlinkSync(target, keys);
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const run = (mode: "apply" | "remove", check = "#!/usr/bin/env bash\necho reboot-required=no\n") =>
        spawnSync("bash", ["-s"], {
            input: renderPreviewKeyScript("private", mode, check, PUB, { authorizedKeys: keys, root: dir }),
            encoding: "utf8",
        });
    const installed = () => path.join(dir, previewCheckPath("private"));

    test("admits the key to the installed check alone, beside root's own keys, and changes nothing the second time", () => {
        const first = run("apply");
        expect(first.stderr).toBe("");
        expect(first.status).toBe(0);
        expect(first.stdout).toBe("ai-dualstack[private]: preview key admitted, to the read-only host check only\n");
        expect(fs.lstatSync(keys).isSymbolicLink()).toBe(true);
        expect(fs.readFileSync(target, "utf8")).toBe(
            `${OTHER}\nrestrict,command="${installed()}" ${PUB} aids-private-preview\n`,
        );
        expect(fs.readFileSync(installed(), "utf8")).toBe("#!/usr/bin/env bash\necho reboot-required=no\n");
        expect(fs.statSync(installed()).mode & 0o777).toBe(0o755);
        const second = run("apply");
        expect(second.status).toBe(0);
        expect(second.stdout).toBe("");
        expect(fs.readFileSync(target, "utf8").match(/aids-private-preview/g)).toHaveLength(1);
    });

    test("a new key replaces the old one's line; remove takes the line and the check away, root's keys stay", () => {
        run("apply");
        const again = spawnSync("bash", ["-s"], {
            input: renderPreviewKeyScript("private", "apply", "#!/usr/bin/env bash\n", `${PUB}2`, {
                authorizedKeys: keys,
                root: dir,
            }),
            encoding: "utf8",
        });
        expect(again.status).toBe(0);
        expect(fs.readFileSync(target, "utf8")).toBe(
            `${OTHER}\nrestrict,command="${installed()}" ${PUB}2 aids-private-preview\n`,
        );
        const removed = run("remove");
        expect(removed.status).toBe(0);
        expect(fs.readFileSync(target, "utf8")).toBe(`${OTHER}\n`);
        expect(fs.existsSync(installed())).toBe(false);
        expect(fs.lstatSync(keys).isSymbolicLink()).toBe(true);
    });
});

const shellcheck = validator("shellcheck");
(shellcheck ? test : test.skip)("shellcheck finds nothing in the rendered scripts", () => {
    expect(() =>
        shellcheckScripts(shellcheck as string, {
            "apply.sh": renderPreviewKeyScript("private", "apply", "#!/usr/bin/env bash\n", PUB),
            "remove.sh": renderPreviewKeyScript("private", "remove", "", ""),
        }),
    ).not.toThrow();
});
