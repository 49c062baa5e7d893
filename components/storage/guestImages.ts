// The cloud images and container templates one environment downloads onto one node. File names
// carry the environment, so the two stacks never manage the same file.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { EnvironmentName } from "../../config/schema";

export interface ImageSource {
    url: string;
    sha256?: string;
    sha512?: string;
}

/** The provider's checksum inputs: sha512 when given, else sha256, else none (unverified). */
export function checksumOf(source: ImageSource): { checksum: string; checksumAlgorithm: string } | undefined {
    if (source.sha512) return { checksum: source.sha512, checksumAlgorithm: "sha512" };
    if (source.sha256) return { checksum: source.sha256, checksumAlgorithm: "sha256" };
    return undefined;
}

export interface GuestImagesArgs {
    readonly environment: EnvironmentName;
    readonly nodeName: string;
    readonly datastore: string;
    /** VM disk images (imported as disks). */
    readonly vmImages: readonly ImageSource[];
    /** LXC templates. */
    readonly templates: readonly ImageSource[];
    /** What must exist first: the host bootstrap, which enables `import` and `vztmpl` on the datastore. */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * The file name an image gets in the datastore: environment-prefixed, and with a .qcow2 ending for
 * imports (Proxmox's `import` content accepts only .qcow2/.raw/.vmdk; Ubuntu's .img is qcow2).
 */
export function imageFileName(env: EnvironmentName, url: string, kind: "import" | "vztmpl"): string {
    const base = decodeURIComponent(new URL(url).pathname.split("/").pop() || "image");
    const name = kind === "import" ? base.replace(/\.(img|qcow2)$/i, "") + ".qcow2" : base;
    return `${env}-${name}`;
}

export class GuestImages extends pulumi.ComponentResource {
    private readonly files = new Map<string, proxmoxve.download.File>();

    constructor(name: string, args: GuestImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:storage:GuestImages", name, {}, opts);
        const add = (source: ImageSource, kind: "import" | "vztmpl") => {
            const key = `${kind}:${source.url}`;
            if (this.files.has(key)) return;
            const fileName = imageFileName(args.environment, source.url, kind);
            const file = new proxmoxve.download.File(
                `${name}-${fileName}`,
                {
                    nodeName: args.nodeName,
                    datastoreId: args.datastore,
                    contentType: kind,
                    url: source.url,
                    fileName,
                    ...(checksumOf(source) ?? {}),
                    // "current" images change upstream daily; re-downloading them would churn every guest.
                    overwrite: false,
                    overwriteUnmanaged: true,
                    uploadTimeout: 1800,
                },
                { parent: this, dependsOn: args.dependsOn },
            );
            this.files.set(key, file);
        };
        args.vmImages.forEach((s) => add(s, "import"));
        args.templates.forEach((s) => add(s, "vztmpl"));
        this.registerOutputs({});
    }

    /** The datastore file id (`local:import/...`) of a VM image listed in the args. */
    vmImage(url: string): pulumi.Output<string> {
        return this.lookup(`import:${url}`).id;
    }

    /** The datastore file id (`local:vztmpl/...`) of a container template listed in the args. */
    template(url: string): pulumi.Output<string> {
        return this.lookup(`vztmpl:${url}`).id;
    }

    private lookup(key: string): proxmoxve.download.File {
        const file = this.files.get(key);
        if (!file) throw new Error(`GuestImages: ${key} was not listed when the component was built`);
        return file;
    }
}
