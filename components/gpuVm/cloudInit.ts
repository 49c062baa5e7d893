// The cloud-init user data of a GPU VM: login, guest agent, NVIDIA driver, container toolkit and
// Docker. Rendered as a plain string so that tests can validate it with the real cloud-init schema.

import { stringify } from "yaml";
import { NVIDIA_TOOLKIT_KEY, pinnedKeyCommand } from "../../lib/aptKeys";

export interface UserDataArgs {
    hostname: string;
    user: string;
    sshPublicKeys: readonly string[];
    timezone: string;
    /** NVIDIA driver branch ("570"); leave out for a VM without a GPU. */
    nvidiaDriverBranch?: string;
}

const TOOLKIT_KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg";

/** Ubuntu's own packaging of the open kernel modules (Blackwell needs them) for a compute GPU. */
export function nvidiaPackages(branch: string): { driver: string; utils: string; modules: string } {
    return {
        driver: `nvidia:${branch}-server-open`,
        utils: `nvidia-utils-${branch}-server`,
        modules: `linux-modules-nvidia-${branch}-server-open`,
    };
}

export function renderUserData(args: UserDataArgs): string {
    const gpu = args.nvidiaDriverBranch !== undefined;
    const runcmd: (string | string[])[] = [
        ["systemctl", "enable", "--now", "qemu-guest-agent"],
        ["usermod", "-aG", "docker", args.user],
    ];
    if (gpu) {
        const pkgs = nvidiaPackages(args.nvidiaDriverBranch as string);
        runcmd.push(
            // Picks the prebuilt, signed kernel modules that match the image's kernel.
            ["ubuntu-drivers", "install", "--gpgpu", pkgs.driver],
            ["apt-get", "install", "-y", pkgs.utils],
            // The modules for the kernel running now (package_upgrade may have installed a newer
            // one), loaded at once: no reboot, which the RTX 5090 is known to survive badly under VFIO.
            `apt-get install -y ${pkgs.modules}-$(uname -r) && modprobe nvidia && nvidia-smi -L`,
            // NVIDIA's key only when its fingerprint is the pinned one (lib/aptKeys.ts); apt itself
            // fills in $(ARCH) (sources.list(5)).
            pinnedKeyCommand(NVIDIA_TOOLKIT_KEY, {
                keyring: TOOLKIT_KEYRING,
                list: "/etc/apt/sources.list.d/nvidia-container-toolkit.list",
                line: `deb [signed-by=${TOOLKIT_KEYRING}] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /`,
            }),
            ["apt-get", "update"],
            ["apt-get", "install", "-y", "nvidia-container-toolkit"],
            ["nvidia-ctk", "runtime", "configure", "--runtime=docker"],
            ["systemctl", "restart", "docker"],
        );
    }
    const doc: Record<string, unknown> = {
        hostname: args.hostname,
        timezone: args.timezone,
        users: [
            {
                name: args.user,
                shell: "/bin/bash",
                sudo: "ALL=(ALL) NOPASSWD:ALL",
                lock_passwd: true,
                ssh_authorized_keys: [...args.sshPublicKeys],
            },
        ],
        ssh_pwauth: false,
        disable_root: true,
        package_update: true,
        package_upgrade: true,
        packages: [
            "qemu-guest-agent",
            "docker.io",
            "docker-compose-v2",
            "ca-certificates",
            "curl",
            "gnupg",
            ...(gpu ? ["ubuntu-drivers-common"] : []),
        ],
        runcmd,
    };
    return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
