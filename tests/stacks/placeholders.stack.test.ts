// The repository's example values (keys that open nothing, the example.com domain and mailbox): the
// offline plan and a preview warn about each, an `up` refuses them before anything is registered.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { ConfigError } from "../../config/load";
import { findPlaceholders } from "../../config/rules/placeholders";
import { LxcConfig } from "../../config/schema";
import { runProgram } from "../../stacks";
import { runOffline } from "../../testing/mockRuntime";
import { assumeHosts } from "../../testing/planStack";
import { readStackConfig } from "../../testing/stackFiles";
import { parsedConfig } from "../helpers/config";
import { committedPlan } from "../helpers/planCache";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnKeyOfTheOperatorxxxxxxxxxxxxxxxxxxxxxxxx me@laptop";

test("the committed stacks still hold the examples, each found with its path", () => {
    expect(findPlaceholders(parsedConfig("public")).map((p) => p.path)).toEqual([
        "vms.public-ai.cloudInit.sshPublicKeys[0]",
        "vms.public-ai.services.chat.environment.WEBUI_ADMIN_EMAIL",
        "vms.public-ai.services.proxy.proxy.acmeEmail",
        "vms.public-ai.services.proxy.proxy.routes[0].host",
        "containers.public-postgres.sshPublicKeys[0]",
        "containers.public-redis.sshPublicKeys[0]",
        "vms.public-ai.image.sha256",
        "backup.pbs.fingerprint",
    ]);
    // The all-zero fingerprint Pulumi.public.yaml ships: no certificate has it.
    expect(findPlaceholders(parsedConfig("public"))[7]?.message).toBe(
        "is the repository's all-zero example, which no certificate has, so the node would refuse the PBS; copy the fingerprint the PBS stack prints (`pulumi stack output --stack private backup`: server.fingerprint)",
    );
    expect(findPlaceholders(parsedConfig("public"))[3]?.message).toBe(
        "chat.example.com is an example domain (RFC 2606) that points nowhere; use your own, pointed at your router's port forward",
    );
    // The VM's key, image and mailbox, each container's key, two VPN peers' keys, the VPN's example
    // endpoint and the runner's example repository. The containers' templates are the default, which
    // carries the checksum of Proxmox's template index.
    expect(findPlaceholders(parsedConfig("private"))).toHaveLength(1 + 1 + 1 + 6 + 2 + 1 + 1);
});

test("a template of one's own without a checksum is named, with where to find its sha512", () => {
    const cfg = parsedConfig("public");
    const url = "https://download.proxmox.com/images/system/debian-13-standard_13.1-2_amd64.tar.zst";
    const own = { ...cfg, containers: { ...cfg.containers } };
    own.containers["public-redis"] = { ...(cfg.containers["public-redis"] as LxcConfig), template: { url } };
    const issue = findPlaceholders(own).find((p) => p.path.endsWith(".template.sha512"));
    expect(issue).toEqual({
        path: "containers.public-redis.template.sha512",
        message:
            "missing: the template becomes the container's root filesystem, so its download must be verified; copy its sha512sum from the node's template index: `pveam update && grep -A20 'debian-13-standard_13.1-2_amd64.tar.zst' /var/lib/pve-manager/apl-info/download.proxmox.com | grep -m1 sha512sum`",
    });
});

/** Runs the program as a real engine run would (not the offline plan): `preview` or `up`. */
async function realRun(preview: boolean, overrides: Record<string, unknown> = {}) {
    const files = readStackConfig("public", { overrides });
    return runOffline({
        stack: "public",
        config: files.config,
        secretKeys: files.secretKeys,
        preview,
        program: () => runProgram({ checkHosts: assumeHosts("ready") }),
    });
}

test("`pulumi up` refuses them, naming each, before anything is registered", async () => {
    const run = await realRun(false);
    expect(run.error).toBeInstanceOf(ConfigError);
    const issues = (run.error as ConfigError).issues.map((i) => i.path);
    expect(issues).toContain("vms.public-ai.services.proxy.proxy.routes[0].host");
    expect(issues).toContain("backup.pbs.fingerprint");
    expect(issues).toHaveLength(8);
    expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
});

test("a preview and the offline plan warn and go on", async () => {
    const preview = await realRun(true);
    expect(preview.error).toBeUndefined();
    expect(preview.warnings).toContain(
        "ai-dualstack:vms.public-ai.services.proxy.proxy.acmeEmail: admin@example.com is an example address (RFC 2606) nobody reads; use your own mailbox (`pulumi up` refuses it)",
    );
    const plan = await committedPlan("public");
    expect(plan.notes.filter((n) => n.includes("`pulumi up` refuses it"))).toHaveLength(8);
    expect(plan.resources.length).toBeGreaterThan(40);
});

test("with the operator's own values, `up` goes ahead", async () => {
    const files = readStackConfig("public");
    type Vm = {
        cloudInit: { sshPublicKeys: string[] };
        image?: { url: string; sha256?: string };
        services: {
            chat: { environment: Record<string, string> };
            proxy: { proxy: { acmeEmail: string; routes: { host: string }[] } };
        };
    };
    const vms = JSON.parse(files.config["ai-dualstack:vms"] ?? "{}") as Record<string, Vm>;
    const containers = JSON.parse(files.config["ai-dualstack:containers"] ?? "{}") as Record<
        string,
        { sshPublicKeys: string[]; template?: { url: string; sha512?: string } }
    >;
    const vm = vms["public-ai"] as Vm;
    vm.cloudInit.sshPublicKeys = [KEY];
    vm.image = {
        url: "https://cloud-images.ubuntu.com/releases/noble/release-20260101/ubuntu-24.04-server-cloudimg-amd64.img",
        sha256: "0".repeat(64),
    };
    vm.services.chat.environment["WEBUI_ADMIN_EMAIL"] = "me@my-lab.net";
    vm.services.proxy.proxy.acmeEmail = "me@my-lab.net";
    (vm.services.proxy.proxy.routes[0] as { host: string }).host = "chat.my-lab.net";
    for (const lxc of Object.values(containers)) {
        lxc.sshPublicKeys = [KEY];
        lxc.template = {
            url: "https://download.proxmox.com/images/system/debian-12-standard_12.12-1_amd64.tar.zst",
            sha512: "0".repeat(128),
        };
    }
    const backup = JSON.parse(files.config["ai-dualstack:backup"] ?? "{}") as { pbs: { fingerprint: string } };
    backup.pbs.fingerprint = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16)).join(":");
    const run = await realRun(false, { vms, containers, backup });
    expect(run.error).toBeUndefined();
    expect(run.warnings.filter((w) => w.includes("refuses"))).toEqual([]);
    // The template's download is verified against the checksum given.
    const template = run.resources.find(
        (r) => r.resource instanceof proxmoxve.download.File && r.inputs["contentType"] === "vztmpl",
    );
    expect(template?.inputs).toMatchObject({ checksum: "0".repeat(128), checksumAlgorithm: "sha512" });
    // So is the VM's cloud image, against its sha256.
    const image = run.resources.find(
        (r) => r.resource instanceof proxmoxve.download.File && String(r.inputs["url"]).includes("cloud-images"),
    );
    expect(image?.inputs).toMatchObject({ checksum: "0".repeat(64), checksumAlgorithm: "sha256" });
});

test("a cloud image without a checksum is named, with where to find one", () => {
    // Proxmox verifies a download only against a checksum it is given (download.File checksum and
    // checksumAlgorithm, as the template test above shows), and `current` changes under a fixed one.
    const issue = findPlaceholders(parsedConfig("public")).find((p) => p.path === "vms.public-ai.image.sha256");
    expect(issue?.message).toBe(
        "missing: the cloud image becomes the VM's system disk, so its download must be verified; use a dated release (such as https://cloud-images.ubuntu.com/releases/noble/release-<date>/ubuntu-24.04-server-cloudimg-amd64.img) and copy its line from that folder's SHA256SUMS",
    );
});
