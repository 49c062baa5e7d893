// The API identity one environment deploys with: one role per grant of privileges.ts (each path
// scoped to what the environment owns, each privilege with its reason), a user and a
// privilege-separated token holding them. Created when proxmox.apiAccess is "managed", by a first
// run with an admin token; the token it makes is then the stack's proxmoxApiToken
// (docs/deploying.md). Also the environment's pool, which holds its guests either way.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { StackModel } from "../../config/resolve";
import { EnvironmentName } from "../../config/schema";
import { pciMappingName } from "../gpuVm/gpuPassthroughVm";
import { AccessScope, Grant, accessGrants, grantRole, poolName } from "./privileges";

export type { AccessScope, Grant } from "./privileges";

/** Names of an environment's identity: user and token. */
export function accessNames(env: EnvironmentName) {
    const user = `aids-${env}@pve`;
    return { user, token: "pulumi", tokenId: `${user}!pulumi` };
}

/** What the environment's identity must reach, read from its model. */
export function accessScope(stack: StackModel): AccessScope {
    const guests = [...stack.vms, ...stack.containers];
    const storages = new Set(stack.nodes.flatMap((n) => n.mirrors.map((m) => m.storageId)));
    return {
        environment: stack.environment,
        pveMajor: stack.proxmox.majorVersion,
        nodes: stack.nodes.map((n) => n.name),
        storages: [...storages].sort(),
        filesDatastore: stack.proxmox.filesDatastore,
        ...(stack.backup ? { backupStorage: stack.backup.pbs.storageId } : {}),
        mappings: stack.nodes.flatMap((n) => n.gpus.map((g) => pciMappingName(stack.environment, g.name))).sort(),
        bridges: [...new Set(guests.map((g) => g.network.bridge))].sort(),
        monitoringIdentity: stack.monitoring?.server?.hostExporters === true,
    };
}

/** The environment's pool: its guests are members, so the VM privileges granted on it reach them only. */
export function environmentPool(env: EnvironmentName, opts: pulumi.CustomResourceOptions): proxmoxve.PoolLegacy {
    return new proxmoxve.PoolLegacy(
        `${env}-pool`,
        { poolId: poolName(env), comment: `ai-dualstack ${env}: the environment's guests` },
        opts,
    );
}

export interface ProxmoxAccessArgs {
    readonly scope: AccessScope;
}

export class ProxmoxAccess extends pulumi.ComponentResource {
    public readonly roles: proxmoxve.RoleLegacy[];
    public readonly user: proxmoxve.UserLegacy;
    public readonly token: proxmoxve.user.TokenLegacy;
    /** `user@pve!pulumi=<uuid>`: set it as proxmoxApiToken after the first run. A secret. */
    public readonly apiToken: pulumi.Output<string>;
    public readonly tokenId: string;

    constructor(name: string, args: ProxmoxAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:host:ProxmoxAccess", name, {}, opts);
        const env = args.scope.environment;
        const names = accessNames(env);
        const child = { parent: this };
        this.tokenId = names.tokenId;
        this.user = new proxmoxve.UserLegacy(
            `${name}-user`,
            { userId: names.user, enabled: true, comment: `ai-dualstack ${env}: deploys with its token` },
            child,
        );
        this.token = new proxmoxve.user.TokenLegacy(
            `${name}-token`,
            {
                userId: names.user,
                tokenName: names.token,
                // The token holds only what its own ACL grants, and never more than the user.
                privilegesSeparation: true,
                comment: `ai-dualstack ${env}: proxmoxApiToken`,
            },
            { ...child, dependsOn: [this.user], additionalSecretOutputs: ["value"] },
        );
        this.roles = accessGrants(args.scope).map((g) => this.grant(name, env, g));
        this.apiToken = pulumi.secret(this.token.value.apply((v) => (v.includes("=") ? v : `${names.tokenId}=${v}`)));
        this.registerOutputs({ tokenId: this.tokenId, apiToken: this.apiToken });
    }

    /** One grant: its role, and on each of its paths an ACL for the user and one for the token. */
    private grant(name: string, env: EnvironmentName, g: Grant): proxmoxve.RoleLegacy {
        const roleId = grantRole(env, g);
        const role = new proxmoxve.RoleLegacy(
            `${name}-role-${g.scope.toLowerCase()}`,
            { roleId, privileges: g.privileges.map((x) => x.privilege) },
            { parent: this },
        );
        const names = accessNames(env);
        for (const path of g.paths) {
            const slug = path.split("/").filter(Boolean).join("-") || "root";
            for (const [who, target] of [
                ["user", { userId: names.user }],
                ["token", { tokenId: names.tokenId }],
            ] as const) {
                new proxmoxve.AclLegacy(
                    `${name}-acl-${g.scope.toLowerCase()}-${slug}-${who}`,
                    { path, propagate: g.propagate, roleId, ...target },
                    { parent: this, dependsOn: [role, this.user, this.token] },
                );
            }
        }
        return role;
    }
}
