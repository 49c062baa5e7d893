// One Proxmox node as an environment sees it: the explicit provider for its API, and the host
// bootstrap (IOMMU, vfio, driver blacklist, hugepages) run over SSH. It never reboots the node; the
// host check (check.ts) said before the program built anything whether a reboot is pending.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { NodeModel } from "../../config/resolve";
import { inlineScript } from "../../lib/scripts";
import { scriptCommand } from "../remoteScript";
import { BootstrapPlan, describeBootstrap, renderBootstrapScript } from "./bootstrap";
import { HostStatus } from "./check";

export interface ProxmoxHostArgs {
    /** The node's name in the Proxmox cluster. */
    readonly nodeName: string;
    /** Where root SSH reaches the node; an unset host key is warned about, not trusted silently. */
    readonly ssh: NodeModel["ssh"];
    /** The Proxmox API (proxmox.endpoint) and whether its TLS certificate is verified. */
    readonly api: { readonly endpoint: string; readonly insecure: boolean };
    /** API token `user@realm!tokenid=uuid`; needs VM.*, Datastore.*, Sys.Modify and Mapping.* privileges. */
    readonly apiToken: pulumi.Input<string>;
    /** Private key for `root` (or node.sshUser) on the node: host commands and snippet uploads. */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** What the bootstrap sets up; see bootstrap.ts. */
    readonly bootstrap: BootstrapPlan;
    /** What the host check found: whether a reboot is pending, and why. */
    readonly status: HostStatus;
}

export class ProxmoxHost extends pulumi.ComponentResource {
    /** Every Proxmox resource on this node goes through this provider; none reads the environment. */
    public readonly provider: proxmoxve.Provider;
    public readonly bootstrap: command.remote.Command;
    public readonly nodeName: string;
    /** Root SSH to the node, for commands that only root may run (see GpuPassthroughVm). */
    public readonly connection: command.types.input.remote.ConnectionArgs;
    /** True while something only a reboot activates is not live yet (kernel args, vfio binding). */
    public readonly rebootRequired: boolean;
    public readonly rebootReasons: readonly string[];
    /** The host can run this environment's GPU VMs: the opposite of rebootRequired. */
    public readonly ready: boolean;

    constructor(name: string, args: ProxmoxHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:host:ProxmoxHost", name, {}, opts);
        this.nodeName = args.nodeName;

        this.provider = this.apiProvider(name, args);
        this.connection = this.rootSsh(args);
        // The script goes in on stdin so that a preview shows it line by line in the diff.
        this.bootstrap = scriptCommand(
            `${name}-bootstrap`,
            describeBootstrap(args.bootstrap),
            {
                connection: this.connection,
                stdin: renderBootstrapScript(args.bootstrap, "apply"),
                secret: false,
                delete: inlineScript(renderBootstrapScript(args.bootstrap, "remove")),
            },
            // Replaced create-first, the old one's delete would remove the fragment the new one wrote.
            { parent: this, deleteBeforeReplace: true },
        );
        this.rebootRequired = args.status.required;
        this.rebootReasons = args.status.reasons;
        this.ready = !args.status.required;

        this.registerOutputs({
            nodeName: this.nodeName,
            rebootRequired: this.rebootRequired,
            rebootReasons: this.rebootReasons,
        });
    }

    /** Root SSH to the node; an unpinned host key is used, but warned about. */
    private rootSsh(args: ProxmoxHostArgs): command.types.input.remote.ConnectionArgs {
        const { ssh } = args;
        if (!ssh.hostKey) {
            void pulumi.log.warn(
                `nodes.${args.nodeName}.sshHostKey is not set, so the SSH host key of ${ssh.address} is not verified; pin it (ssh-keyscan -t ed25519 ${ssh.address})`,
                this,
            );
        }
        return {
            host: ssh.address,
            port: ssh.port,
            user: ssh.user,
            privateKey: args.sshPrivateKey,
            ...(ssh.hostKey ? { hostKey: ssh.hostKey } : {}),
        };
    }

    /** The explicit provider for the node's API: token auth, SSH for uploads, nothing from the environment. */
    private apiProvider(name: string, args: ProxmoxHostArgs): proxmoxve.Provider {
        const { ssh } = args;
        return new proxmoxve.Provider(
            `${name}-provider`,
            {
                endpoint: args.api.endpoint,
                apiToken: args.apiToken,
                insecure: args.api.insecure,
                randomVmIds: false,
                ssh: {
                    username: ssh.user,
                    privateKey: args.sshPrivateKey,
                    agent: false,
                    nodes: [{ name: args.nodeName, address: ssh.address, port: ssh.port }],
                },
            },
            { parent: this },
        );
    }
}
