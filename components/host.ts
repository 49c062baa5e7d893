// One Proxmox node as an environment sees it: the explicit provider for its API, and the host
// bootstrap (IOMMU, vfio, driver blacklist, hugepages) run over SSH. It never reboots the node.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { NodeConfig, ProxmoxConfig } from "../config/schema";
import {
    BootstrapPlan,
    inlineScript,
    parseRebootStatus,
    renderBootstrapScript,
    renderCheckScript,
} from "./hostBootstrap";

export interface ProxmoxHostArgs {
    /** The node's name in the Proxmox cluster. */
    readonly nodeName: string;
    readonly node: NodeConfig;
    readonly proxmox: ProxmoxConfig;
    /** API token `user@realm!tokenid=uuid`; needs VM.*, Datastore.*, Sys.Modify and Mapping.* privileges. */
    readonly apiToken: pulumi.Input<string>;
    /** Private key for `root` (or node.sshUser) on the node: host commands and snippet uploads. */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** What the bootstrap sets up; see hostBootstrap.ts. */
    readonly bootstrap: BootstrapPlan;
    /**
     * Changes on every run, so that the read-only host check runs on every `pulumi up` (after a
     * reboot above all). Default: the current time.
     */
    readonly checkTrigger?: string;
}

export class ProxmoxHost extends pulumi.ComponentResource {
    /** Every Proxmox resource on this node goes through this provider; none reads the environment. */
    public readonly provider: proxmoxve.Provider;
    public readonly bootstrap: command.remote.Command;
    /** The read-only host check, run on every up after the bootstrap. */
    public readonly check: command.remote.Command;
    public readonly nodeName: string;
    /** Root SSH to the node, for commands that only root may run (see GpuPassthroughVm). */
    public readonly connection: command.types.input.remote.ConnectionArgs;
    /** True while something only a reboot activates is not live yet (kernel args, vfio binding). */
    public readonly rebootRequired: pulumi.Output<boolean>;
    public readonly rebootReasons: pulumi.Output<string[]>;
    /** The host can run this environment's GPU VMs: the opposite of rebootRequired. */
    public readonly ready: pulumi.Output<boolean>;

    constructor(name: string, args: ProxmoxHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:host:ProxmoxHost", name, {}, opts);
        this.nodeName = args.nodeName;
        const { node } = args;

        this.provider = new proxmoxve.Provider(
            `${name}-provider`,
            {
                endpoint: args.proxmox.endpoint,
                apiToken: args.apiToken,
                insecure: args.proxmox.insecure,
                randomVmIds: false,
                ssh: {
                    username: node.sshUser,
                    privateKey: args.sshPrivateKey,
                    agent: false,
                    nodes: [{ name: args.nodeName, address: node.address, port: node.sshPort }],
                },
            },
            { parent: this },
        );

        this.connection = {
            host: node.address,
            port: node.sshPort,
            user: node.sshUser,
            privateKey: args.sshPrivateKey,
            ...(node.sshHostKey ? { hostKey: node.sshHostKey } : {}),
        };
        if (!node.sshHostKey) {
            void pulumi.log.warn(
                `nodes.${args.nodeName}.sshHostKey is not set, so the SSH host key of ${node.address} is not verified; pin it (ssh-keyscan -t ed25519 ${node.address})`,
                this,
            );
        }
        // The script goes in on stdin so that a preview shows it line by line in the diff.
        this.bootstrap = new command.remote.Command(
            `${name}-bootstrap`,
            {
                connection: this.connection,
                create: "bash -s",
                update: "bash -s",
                stdin: renderBootstrapScript(args.bootstrap, "apply"),
                delete: inlineScript(renderBootstrapScript(args.bootstrap, "remove")),
                logging: "stdoutAndStderr",
            },
            // Replaced create-first, the old one's delete would remove the fragment the new one wrote.
            { parent: this, deleteBeforeReplace: true },
        );
        this.check = new command.remote.Command(
            `${name}-check`,
            {
                connection: this.connection,
                create: "bash -s",
                stdin: renderCheckScript(args.bootstrap),
                triggers: [args.checkTrigger ?? new Date().toISOString()],
                logging: "stdoutAndStderr",
            },
            { parent: this, dependsOn: [this.bootstrap] },
        );

        const status = this.check.stdout.apply(parseRebootStatus);
        this.rebootRequired = status.apply((s) => s.required);
        this.rebootReasons = status.apply((s) => s.reasons);
        this.ready = this.rebootRequired.apply((r) => !r);

        this.registerOutputs({
            nodeName: this.nodeName,
            rebootRequired: this.rebootRequired,
            rebootReasons: this.rebootReasons,
        });
    }
}
