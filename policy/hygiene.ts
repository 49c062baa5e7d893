// Hygiene: pinned images, containers that report health and have a memory ceiling, cloud-init
// without password logins, and key material only in the inputs meant to carry credentials.

import * as docker from "@pulumi/docker";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { UnknownValueError, validateResourceOfType } from "@pulumi/policy";
import type { ResourceCoverage } from "./coverage";
import { absentNulls, resourcePolicy } from "./util";

/** Why an image reference is not pinned, or undefined when it is (a version tag or a digest). */
export function unpinnedReason(image: string): string | undefined {
    if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
    const tag = /:([^/:@]+)$/.exec(image)?.[1];
    if (tag === undefined) return "has no tag (means :latest)";
    if (tag === "latest") return "is tagged :latest";
    return undefined;
}

export const imagesPinned = resourcePolicy(
    "images-pinned",
    "Every docker image is pinned to a version tag or a digest, never :latest or no tag.",
    "Pin the image to a release tag or digest (the service's image in the stack config).",
    [
        validateResourceOfType(docker.RemoteImage, (img, _args, reportViolation) => {
            const why = img.name === undefined ? undefined : unpinnedReason(img.name);
            if (why) reportViolation(`image ${img.name} ${why}`);
        }),
        validateResourceOfType(docker.Container, (c, _args, reportViolation) => {
            const why = c.image === undefined ? undefined : unpinnedReason(c.image);
            if (why) reportViolation(`container image ${c.image} ${why}`);
        }),
    ],
);

export const containerHealthcheck = resourcePolicy(
    "container-healthcheck",
    "Every docker container declares a healthcheck with a test command.",
    "Add a healthcheck (the service's healthcheck in the stack config) so that `wait` and monitoring see a broken service.",
    validateResourceOfType(docker.Container, (c, _args, reportViolation) => {
        if (c.healthcheck === undefined) reportViolation(`container ${c.name ?? "?"} has no healthcheck`);
        else if ((c.healthcheck.tests ?? []).length === 0)
            reportViolation(`container ${c.name ?? "?"} has a healthcheck with no test`);
    }),
);

export const containerMemoryLimit = resourcePolicy(
    "container-memory-limit",
    "Every docker container has a memory limit, so one service cannot starve the VM.",
    "Set the service's limits.memoryGiB (vms.<vm>.services.<name>.limits in the stack config).",
    validateResourceOfType(docker.Container, (c, _args, reportViolation) => {
        if (c.memory === undefined) reportViolation(`container ${c.name ?? "?"} has no memory limit`);
    }),
    // Advisory: several services (web UIs, exporters) have no limit yet.
    "advisory",
);

export const cloudInitNoPasswordSsh = resourcePolicy(
    "cloud-init-no-password-ssh",
    "Cloud-init user data turns SSH password logins off (ssh_pwauth: false).",
    "Render `ssh_pwauth: false` in the VM's user data (components/gpuVm).",
    validateResourceOfType(proxmoxve.FileLegacy, (file, _args, reportViolation) => {
        const data = file.sourceRaw?.data;
        if (data === undefined || !data.startsWith("#cloud-config")) return;
        if (!/^ssh_pwauth:\s*false\s*$/m.test(data))
            reportViolation(`${file.sourceRaw?.fileName ?? "user data"} does not set ssh_pwauth: false`);
    }),
);

/** A snippet uploaded from a file (sourceFile) may be cloud-init user data too, but the pack cannot read it. */
export const cloudInitCoverage: ResourceCoverage = {
    name: "cloud-init-no-password-ssh",
    unchecked: (r) => {
        const file = absentNulls(r.asType(proxmoxve.FileLegacy));
        if (!file || file.sourceRaw?.data !== undefined || file.sourceFile === undefined) return undefined;
        return `${r.name}: a file uploaded from ${file.sourceFile.path ?? "a path"} (sourceFile), which the pack cannot read`;
    },
};

/** Key material: a PEM private key, or a Proxmox API token value (user@realm!id=uuid). */
export const KEY_MATERIAL = [
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    /[\w.-]+@[\w.-]+![\w.-]+=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i,
];

/** The engine's provider for dynamic resources; its inputs are the stack's config. */
export const DYNAMIC_PROVIDER_TYPE = "pulumi:providers:pulumi-nodejs";

/** The input paths meant to carry credentials: an SSH connection's key, a provider's token and SSH settings. */
export const CREDENTIAL_PATHS = ["connection.privateKey", "apiToken", "ssh"];

/** `read()`, or undefined when the engine cannot know it yet (a preview): unknown values are skipped. */
function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (err) {
        if (err instanceof UnknownValueError) return undefined;
        throw err;
    }
}

/** The paths (a.b[0].c) of string values under `value` that look like key material; unknown values are skipped. */
export function keyMaterialPaths(value: unknown, path = ""): string[] {
    if (typeof value === "string") return KEY_MATERIAL.some((re) => re.test(value)) ? [path] : [];
    if (value === null || typeof value !== "object") return [];
    const record = value as Record<string, unknown>;
    return Object.keys(record).flatMap((k) => {
        const at = Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
        return keyMaterialPaths(
            known(() => record[k]),
            at,
        );
    });
}

export const keyMaterialOnlyInCredentials = resourcePolicy(
    "key-material-only-in-credentials",
    "A private key or API token value appears only in the inputs meant for credentials, never in a script, env or file.",
    "Pass the key as a secret file on the guest or through the connection's privateKey; never inline it.",
    // Every resource type: key material in any other input lands in state and in logs, secret or not.
    (args, reportViolation) => {
        // The engine hands the Node.js dynamic provider (the throughput gate's) the whole stack config as its
        // inputs, secrets included and kept secret in state: that is the config, not a script, env or file.
        if (args.type === DYNAMIC_PROVIDER_TYPE) return;
        for (const path of keyMaterialPaths(args.props)) {
            if (!CREDENTIAL_PATHS.includes(path)) reportViolation(`key material in input ${path}`);
        }
    },
);

export const hygienePolicies = [
    imagesPinned,
    containerHealthcheck,
    containerMemoryLimit,
    cloudInitNoPasswordSsh,
    keyMaterialOnlyInCredentials,
];
