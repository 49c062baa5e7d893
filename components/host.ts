// One Proxmox node as an environment sees it: the explicit provider for its API, and the host
// bootstrap (IOMMU, vfio, driver blacklist, hugepages) run over SSH. It never reboots the node.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { NodeConfig, ProxmoxConfig } from "../config/schema";
import { BootstrapPlan, inlineScript, parseRebootStatus, renderBootstrapScript } from "./hostBootstrap";

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
}

export class ProxmoxHost extends pulumi.ComponentResource {
    /** Every Proxmox resource on this node goes through this provider; none reads the environment. */
    public readonly provider: proxmoxve.Provider;
    public readonly bootstrap: command.remote.Command;
    public readonly nodeName: string;
    /** True when the bootstrap changed something only a reboot activates (kernel args, vfio binding). */
    public readonly rebootRequired: pulumi.Output<boolean>;
    public readonly rebootReasons: pulumi.Output<string[]>;

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

        const connection: command.types.input.remote.ConnectionArgs = {
            host: node.address,
            port: node.sshPort,
            user: node.sshUser,
            privateKey: args.sshPrivateKey,
            ...(node.sshHostKey ? { hostKey: node.sshHostKey } : {}),
        };
        // The script goes in on stdin so that a preview shows it line by line in the diff.
        const script = renderBootstrapScript(args.bootstrap, "apply");
        this.bootstrap = new command.remote.Command(
            `${name}-bootstrap`,
            {
                connection,
                create: "bash -s",
                update: "bash -s",
                stdin: script,
                delete: inlineScript(renderBootstrapScript(args.bootstrap, "remove")),
                logging: "stdoutAndStderr",
            },
            { parent: this },
        );

        const status = this.bootstrap.stdout.apply(parseRebootStatus);
        this.rebootRequired = status.apply((s) => s.required);
        this.rebootReasons = status.apply((s) => s.reasons);

        this.registerOutputs({
            nodeName: this.nodeName,
            rebootRequired: this.rebootRequired,
            rebootReasons: this.rebootReasons,
        });
    }
}
