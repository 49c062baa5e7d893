// The read-only identity a stack's previews and drift checks run with (docs/cicd-runner.md): a Proxmox user
// with a privilege-separated token holding the built-in PVEAuditor role on "/", and an SSH key that the node's
// authorized_keys restricts to the read-only host check. The deploy token and root key never go to a preview
// job; these do, from the stack output `preview` into the GitHub environments preview-<env> and drift-<env>.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { EnvironmentName } from "../../config/schema";
import { inlineScript, loadScript, renderScript } from "../../lib/scripts";
import { scriptCommand } from "../remoteScript";

/** The preview identity's names: user, token, and the comment that marks its key in authorized_keys. */
export function previewNames(env: EnvironmentName) {
    const user = `aids-${env}-preview@pve`;
    return { user, token: "preview", tokenId: `${user}!preview`, keyComment: `aids-${env}-preview` };
}

/**
 * The role on "/": Proxmox's built-in PVEAuditor, every privilege of the `audit` lists in pve-access-control
 * src/PVE/AccessControl.pm ($privgroups; create_roles builds PVEAuditor from them). On Proxmox VE 9 that is
 * what a refresh reads with: the guests (VM.Audit, and VM.GuestAgent.Audit for the agent's addresses), the
 * node, firewall and users (Sys.Audit; read_acl and read_user accept it on /access), storage, pools, SDN and
 * mappings. It can change nothing.
 */
export const PREVIEW_ROLE = "PVEAuditor";

/** PVEAuditor's privileges on Proxmox VE 9 (the audit lists named above), for the docs' table. */
export const PREVIEW_PRIVILEGES: readonly string[] = [
    "Datastore.Audit",
    "Mapping.Audit",
    "Pool.Audit",
    "SDN.Audit",
    "Sys.Audit",
    "VM.Audit",
    "VM.GuestAgent.Audit",
];

/** Where the node keeps the environment's installed host check, which the preview key may run. */
export function previewCheckPath(env: EnvironmentName): string {
    return `/usr/local/lib/ai-dualstack/host-check-${env}.sh`;
}

const PREVIEW_KEY = loadScript(__dirname, "preview-key.sh");

/** The node-side script: install (`apply`) the check and the restricted key, or remove both. */
export function renderPreviewKeyScript(
    env: EnvironmentName,
    mode: "apply" | "remove",
    checkScript: string,
    publicKey: string,
    test: { authorizedKeys?: string; root?: string } = {},
): string {
    return renderScript(
        "Rendered by ai-dualstack (components/host/previewAccess.ts). Do not edit on the host.",
        {
            AIDS_ENV: env,
            AIDS_MODE: mode,
            AIDS_CHECK_B64: mode === "apply" ? Buffer.from(checkScript, "utf8").toString("base64") : "",
            AIDS_PREVIEW_PUBKEY: publicKey,
            ...(test.authorizedKeys !== undefined ? { AIDS_AUTHORIZED_KEYS: test.authorizedKeys } : {}),
            ...(test.root !== undefined ? { AIDS_ROOT: test.root } : {}),
        },
        PREVIEW_KEY,
    );
}

/** The key pair from ssh-keygen's two files, printed one after the other: private key, then `type key comment`. */
export function splitKeyPair(stdout: string): { privateKey: string; publicKey: string } {
    const end = "-----END OPENSSH PRIVATE KEY-----";
    const at = stdout.indexOf(end);
    const pub = /^(ssh-ed25519 [A-Za-z0-9+/=]+)/m.exec(stdout.slice(at + end.length).trim());
    if (at < 0 || !pub?.[1]) throw new Error("the preview key's generation printed no OpenSSH key pair");
    return { privateKey: `${stdout.slice(0, at + end.length)}\n`, publicKey: pub[1] };
}

/**
 * The pveum commands that make a preview token by hand, for a stack that does not create it (see
 * PreviewAccessArgs.createToken); run as root on the node.
 */
export function previewPveumCommands(env: EnvironmentName): string[] {
    const n = previewNames(env);
    return [
        `pveum user add ${n.user} --comment "ai-dualstack ${env}: previews and drift checks, read-only"`,
        `pveum user token add ${n.user} ${n.token} --privsep 1   # prints the token secret once`,
        `pveum acl modify / --users ${n.user} --tokens '${n.tokenId}' --roles ${PREVIEW_ROLE} --propagate 1`,
    ];
}

export interface PreviewAccessArgs {
    readonly environment: EnvironmentName;
    /**
     * Create the user, token and ACL (a user in the pve realm, an ACL on "/"): only in a stack whose deploy
     * identity may (the one that creates the monitoring identity). Granting that to the other stack's token
     * would let it reach this one: User.Modify mints tokens for any user in no group, Permissions.Modify on "/"
     * grants any role. Without it only the key is made, and previewPveumCommands make the token by hand.
     */
    readonly createToken: boolean;
    /** Each node the stack touches: root SSH, the environment's rendered host check, what must exist first. */
    readonly nodes: readonly {
        readonly name: string;
        readonly connection: command.types.input.remote.ConnectionArgs;
        readonly checkScript: string;
        readonly dependsOn: pulumi.Input<pulumi.Resource>[];
    }[];
}

export class PreviewAccess extends pulumi.ComponentResource {
    public readonly tokenId: string;
    /** `aids-<env>-preview@pve!preview=<uuid>`: the preview's proxmoxApiToken, when this stack made it. A secret. */
    public readonly apiToken: pulumi.Output<string> | undefined;
    /** The restricted key (OpenSSH): the preview's sshPrivateKey. A secret. */
    public readonly sshPrivateKey: pulumi.Output<string>;
    public readonly publicKey: pulumi.Output<string>;
    public readonly installs: command.remote.Command[];

    constructor(name: string, args: PreviewAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:host:PreviewAccess", name, {}, opts);
        const env = args.environment;
        const names = previewNames(env);
        const child = { parent: this };
        this.tokenId = names.tokenId;
        this.apiToken = args.createToken ? this.identity(name, env) : undefined;

        // Made once on the machine running `up` (ssh-keygen, as the host check needs ssh); kept in the state.
        const key = new command.local.Command(
            `${name}-key`,
            {
                create: `d="$(mktemp -d)" && ssh-keygen -q -t ed25519 -N '' -C ${names.keyComment} -f "$d/key" && cat "$d/key" "$d/key.pub" && rm -rf "$d"`,
                logging: "none",
            },
            { ...child, additionalSecretOutputs: ["stdout"] },
        );
        // A targeted `up` that leaves the key out (as tests/e2e/replaceGuard.test.ts does) runs the program without its
        // stdout: nothing to split then, and nothing that reads the pair is created in that run either.
        const pair = key.stdout.apply((out: string | undefined) =>
            out === undefined ? { privateKey: "", publicKey: "" } : splitKeyPair(out),
        );
        this.sshPrivateKey = pulumi.secret(pair.apply((p) => p.privateKey));
        this.publicKey = pulumi.unsecret(pair.apply((p) => p.publicKey));
        this.installs = args.nodes.map((node) =>
            scriptCommand(
                `${name}-${node.name}-key`,
                `installs the ${env} host check as ${previewCheckPath(env)} and admits the preview key to it alone (restrict,command=)`,
                {
                    connection: node.connection,
                    stdin: this.publicKey.apply((pub) => renderPreviewKeyScript(env, "apply", node.checkScript, pub)),
                    secret: false,
                    delete: inlineScript(renderPreviewKeyScript(env, "remove", "", "")),
                },
                { parent: this, dependsOn: node.dependsOn },
            ),
        );
        this.registerOutputs({ tokenId: this.tokenId, publicKey: this.publicKey });
    }

    /** The user and its privilege-separated token, PVEAuditor on "/" for both; the token's secret. */
    private identity(name: string, env: EnvironmentName): pulumi.Output<string> {
        const names = previewNames(env);
        const child = { parent: this };
        const user = new proxmoxve.UserLegacy(
            `${name}-user`,
            { userId: names.user, enabled: true, comment: `ai-dualstack ${env}: previews and drift checks, read-only` },
            child,
        );
        const token = new proxmoxve.user.Token(
            `${name}-token`,
            {
                userId: names.user,
                tokenName: names.token,
                privilegesSeparation: true,
                comment: `ai-dualstack ${env}: the preview's proxmoxApiToken (${PREVIEW_ROLE})`,
            },
            { ...child, dependsOn: [user], additionalSecretOutputs: ["value"] },
        );
        for (const [who, target] of [
            ["user", { userId: names.user }],
            ["token", { tokenId: names.tokenId }],
        ] as const) {
            new proxmoxve.Acl(
                `${name}-acl-${who}`,
                { path: "/", propagate: true, roleId: PREVIEW_ROLE, ...target },
                { ...child, dependsOn: [user, token] },
            );
        }
        // A targeted `up` that leaves the token out runs the program without its value: nothing to prefix then.
        return pulumi.secret(
            token.value.apply((v: string | undefined) =>
                v === undefined || v.includes("=") ? v : `${names.tokenId}=${v}`,
            ),
        ) as pulumi.Output<string>;
    }
}
