// The GPU VM's cloud-init user data, validated by the real cloud-init schema.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { renderUserData } from "../../../components/gpuVm/cloudInit";
import { NVIDIA_TOOLKIT_KEY } from "../../../lib/aptKeys";
import { validator } from "../../helpers/sandbox";

const base = {
    hostname: "private-ai",
    user: "ubuntu",
    sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITest you@laptop"],
    timezone: "Etc/UTC",
};
const withGpu = renderUserData({ ...base, nvidiaDriverBranch: "570" });
const withoutGpu = renderUserData(base);

test("key-only login, the guest agent, Docker, and the open NVIDIA driver of the chosen branch", () => {
    expect(withGpu.startsWith("#cloud-config\n")).toBe(true);
    const doc = parse(withGpu) as Record<string, unknown>;
    expect(doc["ssh_pwauth"]).toBe(false);
    expect(doc["users"]).toEqual([
        expect.objectContaining({ name: "ubuntu", lock_passwd: true, ssh_authorized_keys: base.sshPublicKeys }),
    ]);
    expect(doc["packages"]).toEqual(expect.arrayContaining(["qemu-guest-agent", "docker.io", "ubuntu-drivers-common"]));
    const runcmd = JSON.stringify(doc["runcmd"]);
    expect(runcmd).toContain('"ubuntu-drivers","install","--gpgpu","nvidia:570-server-open"');
    expect(runcmd).toContain("nvidia-container-toolkit");
    expect(runcmd).toContain('"nvidia-ctk","runtime","configure","--runtime=docker"');
    // The driver is loaded in the running kernel: no reboot at the end of the first boot.
    expect(runcmd).toContain("apt-get install -y linux-modules-nvidia-570-server-open-$(uname -r) && modprobe nvidia");
    expect(doc["power_state"]).toBeUndefined();
    expect(withoutGpu).not.toMatch(/nvidia|power_state/);
});

const cloudInit = validator("cloud-init");
(cloudInit ? test : test.skip).each([
    ["with a GPU", withGpu],
    ["without a GPU", withoutGpu],
])("cloud-init's own schema accepts the user data %s", (_label, userData) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aids-ci-")), "user-data.yaml");
    fs.writeFileSync(file, userData);
    const out = execFileSync(cloudInit as string, ["schema", "--config-file", file], { encoding: "utf8" });
    expect(out).toContain("Valid cloud-config");
});

(cloudInit ? test : test.skip)("and the same validator rejects a broken document, so the check can fail", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aids-ci-")), "user-data.yaml");
    fs.writeFileSync(file, withGpu.replace("ssh_pwauth: false", "ssh_pwauth: false\npower_state: { mode: explode }"));
    expect(() =>
        execFileSync(cloudInit as string, ["schema", "--config-file", file], { encoding: "utf8", stdio: "pipe" }),
    ).toThrow(/power_state.mode/);
});

test("NVIDIA's toolkit repository is added only with its pinned key, and its command stops there otherwise", () => {
    const runcmd = (parse(withGpu.replace(/^#cloud-config\n/, "")) as { runcmd: (string | string[])[] }).runcmd;
    const keyStep = runcmd.find((c) => typeof c === "string" && c.includes(NVIDIA_TOOLKIT_KEY.url)) as string;
    // Fetched over HTTPS and compared with the fingerprint in lib/aptKeys.ts (tests/lib/aptKeys.test.ts runs
    // this command); an unpinned `curl | gpg --dearmor` would trust whatever the URL serves.
    expect(keyStep).toContain(`if [ "$f" = '${NVIDIA_TOOLKIT_KEY.fingerprint}' ]`);
    expect(keyStep).toContain("https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /");
    expect(runcmd.filter((c) => typeof c === "string" && /curl[^|]*\|\s*gpg/.test(c))).toEqual([]);
    // The toolkit is installed after the key step, never before it.
    const install = runcmd.findIndex((c) => Array.isArray(c) && c.includes("nvidia-container-toolkit"));
    expect(install).toBeGreaterThan(runcmd.indexOf(keyStep));
});
