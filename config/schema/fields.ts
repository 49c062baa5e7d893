// The scalar shapes of the schema, each with the message a user needs to fix it, and the guest
// fields the VMs and containers share (network, disk, firewall, image).

import { z } from "zod";
import { CPUSET_PATTERN } from "../../lib/cpuset";

export const ENVIRONMENTS = ["private", "public"] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** The kinds of guest a GPU can go to: a VM (vfio-pci) or a container (the host's driver). */
export const GPU_GUEST_KINDS = ["vm", "container"] as const;
export type GpuGuestKind = (typeof GPU_GUEST_KINDS)[number];

export const LXC_ROLES = ["postgresql", "redis", "security", "cicd", "monitoring", "backup"] as const;
export type LxcRole = (typeof LXC_ROLES)[number];

/** Default guest image of the GPU VMs: Ubuntu 24.04. */
export const DEFAULT_VM_IMAGE_URL = "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img";

/** The Proxmox VE majors the program supports; the default is the current one. */
export const PVE_MAJORS = [8, 9] as const;
export type PveMajor = (typeof PVE_MAJORS)[number];
export const DEFAULT_PVE_MAJOR: PveMajor = 9;

/**
 * The service containers' default template per Proxmox VE major: the Debian standard template of the
 * Debian release that major is built on (9: Debian 13 "trixie", 8: Debian 12 "bookworm"), with the
 * sha512sum Proxmox's template index lists for it. Copied from the index pve-manager ships,
 * aplinfo/aplinfo.dat ("update shipped appliance info index"): on master, fetched from
 * aplinfo-pve-9.dat (July 2026), on stable-8 from aplinfo-pve-8.dat; Debian 12's entry is the same in
 * both. Over HTTPS from the Location those entries name (download.proxmox.com/images/system/).
 */
export const DEBIAN_LXC_TEMPLATES: Readonly<Record<PveMajor, { readonly url: string; readonly sha512: string }>> = {
    9: {
        url: "https://download.proxmox.com/images/system/debian-13-standard_13.6-1_amd64.tar.zst",
        sha512: "4c0c27ca6ceab5ef0b84db57825a00f26157ef1854bafe97297813e1cbe8ecb8cc9c453cab6b3b0efe1ba193a50c47ece1e41d950e411b8730b835b71e9e754b",
    },
    8: {
        url: "https://download.proxmox.com/images/system/debian-12-standard_12.12-1_amd64.tar.zst",
        sha512: "50c85eaaece677a3ebe01cc909b83872e9da2a22c29ae652838afce71e83222fdf40f6accecd7d52b180e912fc1f85ecdf7b3fc4d3027da4d865e509a9e76597",
    },
};

export const environment = z.enum(ENVIRONMENTS, { message: 'must be "private" or "public"' });

/**
 * Guest, node and GPU names become hostnames and resource names: DNS labels. The length is checked
 * first and alone (abort), so a long name is told its length, not the label's whole grammar.
 */
export const label = z
    .string()
    .max(63, {
        error: (issue) =>
            `is ${typeof issue.input === "string" ? issue.input.length : "over 63"} characters long, over the 63 a DNS label may have; shorten it`,
        abort: true,
    })
    .regex(
        /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/,
        "must be a lowercase DNS label: letters, digits and '-', such as \"private-ai\"",
    );

export const pciAddress = z
    .string()
    .regex(
        /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/,
        'must be a full lowercase PCI address such as "0000:01:00.0" (read it with `lspci -D`)',
    );

export const vendorDeviceId = z
    .string()
    .regex(
        /^[0-9a-f]{4}:[0-9a-f]{4}$/,
        'must be vendor:device in lowercase hex such as "10de:2b85" (read it with `lspci -nn -s <address>`)',
    );

export const cpuset = z.string().regex(CPUSET_PATTERN, 'must be a CPU set such as "4-11" or "0-3,8"');

export const cidr = z.cidrv4({ message: 'must be an IPv4 network in CIDR form such as "10.10.10.0/24"' });
export const ipv4 = z.ipv4({ message: 'must be an IPv4 address such as "10.10.10.1"' });
export const hostAddress = z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, "must be an IP address or a host name that resolves to the node");

export const vmid = z
    .number({ message: "must be a number" })
    .int("must be a whole number")
    .min(100, "Proxmox guest ids start at 100")
    .max(999_999_999, "Proxmox guest ids end at 999999999");

export const gib = z.number({ message: "must be a number of GiB" }).positive("must be more than 0 GiB");

export const sshPublicKey = z
    .string()
    .regex(
        /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/,
        'must be one OpenSSH public key line, such as "ssh-ed25519 AAAA... you@laptop"',
    );

export const d = (text: string) => ({ description: text });

/**
 * What a secret field holds: a serviceSecrets name, or a template that names them by {{name}}. The
 * registry marks the schema's secret fields; config/secretUses.ts walks the parsed config by it, so
 * the list of secrets a stack uses is never written down by hand.
 */
export type SecretFieldKind = "name" | "template";
export const secretFields = z.registry<{ kind: SecretFieldKind }>();

/** A field that names a serviceSecrets key; `shape` checks the name's form. */
export function secretRef(description: string, shape: z.ZodString = z.string().min(1)): z.ZodString {
    const field = shape.meta(d(description));
    secretFields.add(field, { kind: "name" });
    return field;
}

/** A field whose value is a template naming serviceSecrets keys, such as "postgresql://u:{{pw}}@h/db". */
export function secretTemplate(shape: z.ZodString = z.string().min(1)): z.ZodString {
    secretFields.add(shape, { kind: "template" });
    return shape;
}

/** A yes/no setting with its default and its meaning. */
export const flag = (value: boolean, text: string) => z.boolean().default(value).meta(d(text));

export const inboundRule = z.strictObject({
    port: z
        .string()
        .regex(/^\d{1,5}([:,]\d{1,5})*$/, 'must be a port, a list "80,443" or a range "8000:8010"')
        .meta(d('Destination port(s): "443", "80,443" or a range "8000:8010".')),
    proto: z.enum(["tcp", "udp"]).default("tcp").meta(d("Protocol.")),
    source: z
        .union([z.literal("any"), cidr])
        .default("any")
        .meta(d('Who may connect: a CIDR, or "any". Private guests accept only their trustedSources.')),
    comment: z.string().optional().meta(d("Shown in the Proxmox firewall.")),
});

export const guestFirewall = z
    .strictObject({
        inbound: z
            .array(inboundRule)
            .default([])
            .meta(d("Inbound rules on top of the environment baseline; everything else inbound is dropped.")),
    })
    .default({ inbound: [] })
    .meta(d("The guest's own firewall: inbound DROP, the environment's baseline group, then these rules."));

export const guestNetwork = z
    .strictObject({
        bridge: z.string().meta(d("A bridge (nodes.<node>.bridges key) that the guest's environment owns.")),
        address: z
            .union([z.literal("dhcp"), cidr])
            .meta(d('Static address with the environment\'s prefix ("10.10.10.20/24"), or "dhcp".')),
        macAddress: z
            .string()
            .regex(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/, 'must be an uppercase MAC such as "BC:24:11:00:00:01"')
            .optional()
            .meta(d("Fixed MAC address, handy for DHCP reservations.")),
    })
    .meta(d("The guest's one network interface."));

export const guestDisk = z
    .strictObject({
        storage: z.string().meta(d("A mirror (nodes.<node>.mirrors key) that the guest's environment owns.")),
        sizeGiB: z
            .number()
            .int("must be a whole number of GiB")
            .positive("must be more than 0 GiB")
            .meta(d("Disk size.")),
    })
    .meta(d("The system disk."));

/** A download: its HTTPS URL and the checksum that verifies it. */
const imageFields = (what: string) =>
    z.strictObject({
        // HTTPS only: the checksum catches a changed file, HTTPS a changed checksum page on the way.
        url: z
            .url({
                protocol: /^https$/,
                message: "must be an https:// URL: a download over plain HTTP can be altered on the way",
            })
            .meta(d(`Where to download the ${what} from (https).`)),
        sha256: z
            .string()
            .regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256")
            .optional()
            .meta(d("Checksum; without it (or sha512) the download is not verified.")),
        sha512: z
            .string()
            .regex(/^[0-9a-f]{128}$/, "must be a lowercase hex sha512")
            .optional()
            .meta(d("Checksum, as Proxmox's template index lists it (`sha512sum:`).")),
    });

/** A guest image with a fixed default. */
export const imageSource = (defaultUrl: string, what: string) =>
    imageFields(what)
        .default({ url: defaultUrl })
        .meta(d(`The ${what}; downloaded once per environment and node.`));

/** A guest image whose default another key decides (config/resolve fills it in). */
export const optionalImageSource = (what: string, description: string) =>
    imageFields(what).optional().meta(d(description));

export type ImageSource = z.infer<ReturnType<typeof imageFields>>;

export type InboundRule = z.infer<typeof inboundRule>;
export type GuestNetworkConfig = z.infer<typeof guestNetwork>;
