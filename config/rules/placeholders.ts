// What is fine for the offline plan but a mistake on a real host: the example values the repository
// ships (a public key that opens nothing, the example.com domain and mailbox, the all-zero PBS
// fingerprint) and a container template or VM cloud image downloaded without a checksum. Found here;
// the program warns about them in a plan or preview and refuses them in an `up` (stacks/index.ts).

import { ParsedConfig } from "../schema";
import { Add, ConfigIssue, collect } from "./issues";
import { guestKind } from "./gpuGuests";

/** The marker in the shipped example public keys. */
export const PLACEHOLDER_KEY_MARK = "ReplaceWithYourOwnPublicKey";

/** The owner in the shipped example runner repository. */
export const PLACEHOLDER_REPO_OWNER = "your-github-user";

/** RFC 2606's example domains: they resolve to nobody's server and take nobody's mail. */
const EXAMPLE_DOMAIN = /(^|\.)example\.(com|org|net)$|\.example$/i;
const EXAMPLE_MAILBOX = /@([a-z0-9-]+\.)*example\.(com|org|net)$/i;

export function findPlaceholders(cfg: ParsedConfig): ConfigIssue[] {
    return collect((add) => {
        const key = (path: string, value: string) => {
            if (value.includes(PLACEHOLDER_KEY_MARK)) {
                add(path, "is the repository's example key, which opens nothing; put your own public key here");
            }
        };
        const mailbox = (path: string, value: string) => {
            if (EXAMPLE_MAILBOX.test(value)) {
                add(path, `${value} is an example address (RFC 2606) nobody reads; use your own mailbox`);
            }
        };
        for (const [vmName, vm] of Object.entries(cfg.vms)) {
            vm.cloudInit.sshPublicKeys.forEach((k, i) => key(`vms.${vmName}.cloudInit.sshPublicKeys[${i}]`, k));
            for (const [svcName, svc] of Object.entries(vm.services)) {
                const at = `vms.${vmName}.services.${svcName}`;
                for (const [name, value] of Object.entries(svc.environment))
                    mailbox(`${at}.environment.${name}`, value);
                if (!svc.proxy) continue;
                mailbox(`${at}.proxy.acmeEmail`, svc.proxy.acmeEmail);
                svc.proxy.routes.forEach((route, i) => {
                    if (EXAMPLE_DOMAIN.test(route.host)) {
                        add(
                            `${at}.proxy.routes[${i}].host`,
                            `${route.host} is an example domain (RFC 2606) that points nowhere; use your own, pointed at your router's port forward`,
                        );
                    }
                });
            }
        }
        for (const [lxcName, lxc] of Object.entries(cfg.containers)) {
            lxc.sshPublicKeys.forEach((k, i) => key(`containers.${lxcName}.sshPublicKeys[${i}]`, k));
            for (const [peer, p] of Object.entries(lxc.wireguard?.peers ?? {})) {
                key(`containers.${lxcName}.wireguard.peers.${peer}.publicKey`, p.publicKey);
            }
            if (lxc.wireguard && EXAMPLE_DOMAIN.test(lxc.wireguard.endpoint)) {
                add(
                    `containers.${lxcName}.wireguard.endpoint`,
                    `${lxc.wireguard.endpoint} is an example domain (RFC 2606) that points nowhere; use your router's public name or address`,
                );
            }
            if (lxc.runner?.repository.startsWith(`${PLACEHOLDER_REPO_OWNER}/`)) {
                add(
                    `containers.${lxcName}.runner.repository`,
                    "is the repository's example; name your own GitHub repository",
                );
            }
        }
        unverifiedDownloads(cfg, add);
        checkExampleFingerprint(cfg, add);
    });
}

/**
 * Downloads without a checksum: Proxmox verifies one only against a checksum it is given
 * (download.File checksum/checksumAlgorithm), and a `current` cloud image changes under a fixed one.
 */
function unverifiedDownloads(cfg: ParsedConfig, add: (path: string, message: string) => void): void {
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        // A GPU container boots Proxmox's own template, with its checksum; it downloads no cloud image.
        if (guestKind(cfg, vm) === "vm" && !vm.image.sha256 && !vm.image.sha512) {
            add(
                `vms.${vmName}.image.sha256`,
                "missing: the cloud image becomes the VM's system disk, so its download must be verified; use a dated release (such as https://cloud-images.ubuntu.com/releases/noble/release-<date>/ubuntu-24.04-server-cloudimg-amd64.img) and copy its line from that folder's SHA256SUMS",
            );
        }
    }
    // A container left on the default template gets Proxmox's own, with its checksum (lxcTemplate).
    for (const [lxcName, lxc] of Object.entries(cfg.containers)) {
        if (lxc.template && !lxc.template.sha256 && !lxc.template.sha512) {
            const file = lxc.template.url.split("/").pop() ?? "";
            add(
                `containers.${lxcName}.template.sha512`,
                `missing: the template becomes the container's root filesystem, so its download must be verified; copy its sha512sum from the node's template index: \`pveam update && grep -A20 '${file}' /var/lib/pve-manager/apl-info/download.proxmox.com | grep -m1 sha512sum\``,
            );
        }
    }
}

/** The all-zero fingerprint Pulumi.public.yaml ships for the PBS the private stack runs. */
function checkExampleFingerprint(cfg: ParsedConfig, add: Add): void {
    const fingerprint = cfg.backup?.pbs.fingerprint;
    if (fingerprint !== undefined && /^(00:){31}00$/.test(fingerprint)) {
        add(
            "backup.pbs.fingerprint",
            "is the repository's all-zero example, which no certificate has, so the node would refuse the PBS; copy the fingerprint the PBS stack prints (`pulumi stack output --stack private backup`: server.fingerprint)",
        );
    }
}
