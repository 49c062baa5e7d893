// The data layer inside the service containers: PostgreSQL and Redis installed and configured over
// SSH by idempotent scripts (components/serviceLxc/scripts/*-setup.sh), with passwords from
// serviceSecrets. The script reaches the container on stdin, so Pulumi keeps it secret as a whole;
// the plain description of what it sets up is in the component's outputs and the plan.

import * as pulumi from "@pulumi/pulumi";
import { withFormerTypes } from "../formerTypes";
import { LxcModel } from "../../config/resolve";
import { loadScript, renderScript, shellQuote } from "../../lib/scripts";
import { rootSsh, ScriptSetup } from "../remoteScript";

const POSTGRES = loadScript(__dirname, "postgres-setup.sh");
const REDIS = loadScript(__dirname, "redis-setup.sh");
const COMMENT = "Rendered by ai-dualstack (components/serviceLxc/dataSetup.ts). Do not edit in the container.";

type Postgres = NonNullable<LxcModel["postgres"]>;
type Redis = NonNullable<LxcModel["redis"]>;

/** PostgreSQL: databases (each with its owner role), their passwords, the networks that may log in. */
export function renderPostgresScript(pg: Postgres, passwords: Readonly<Record<string, string>>): string {
    const dbs = Object.keys(pg.databases).sort();
    const entries = dbs.map((db) => `[${db}]=${shellQuote(passwords[db] ?? "")}`);
    return renderScript(
        COMMENT,
        { AIDS_PG_DATABASES: dbs.join(" "), AIDS_PG_ALLOW: pg.allowFrom.join(" ") },
        POSTGRES,
        [`declare -A AIDS_PG_PASSWORDS=(${entries.join(" ")})`],
    );
}

export function renderRedisScript(redis: Redis, password: string): string {
    return renderScript(
        COMMENT,
        { AIDS_REDIS_PASSWORD: password, AIDS_REDIS_MAXMEMORY_MIB: String(redis.maxmemoryMiB) },
        REDIS,
    );
}

/** What a container's setup does, in one plain line (no secret). */
export function describeSetup(lxc: Pick<LxcModel, "postgres" | "redis">): string | undefined {
    if (lxc.postgres) {
        const dbs = Object.keys(lxc.postgres.databases).sort().join(", ") || "none";
        return `PostgreSQL: databases ${dbs}; logins from ${lxc.postgres.allowFrom.join(", ") || "nowhere"}`;
    }
    if (lxc.redis) return `Redis: password required, maxmemory ${lxc.redis.maxmemoryMiB} MiB (LRU)`;
    return undefined;
}

/** The setup command's line in the plan. */
function describeCommand(lxc: Pick<LxcModel, "postgres" | "redis">): string {
    const what = lxc.postgres
        ? `PostgreSQL, databases ${Object.keys(lxc.postgres.databases).sort().join(" ") || "none"}`
        : "Redis";
    return `installs and configures ${what} (script held secret: it carries passwords)`;
}

export type DataPasswords =
    { readonly postgres: Readonly<Record<string, pulumi.Output<string>>> } | { readonly redis: pulumi.Output<string> };

export interface DataSetupArgs {
    /** The container's data-layer settings: postgres or redis. */
    readonly lxc: Pick<LxcModel, "postgres" | "redis">;
    /** The container's static address. */
    readonly address: string;
    /** Private key whose public half is in the container's sshPublicKeys (root). */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** The passwords the script sets, held secret: each database owner's by database, or Redis's. */
    readonly passwords: DataPasswords;
    /** The container itself: it must run before anything is installed in it. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class DataSetup extends ScriptSetup {
    constructor(name: string, args: DataSetupArgs, opts?: pulumi.ComponentResourceOptions) {
        const { lxc, passwords } = args;
        let stdin: pulumi.Output<string>;
        if (lxc.postgres && "postgres" in passwords) {
            const pg = lxc.postgres;
            stdin = pulumi.all(passwords.postgres).apply((pws) => renderPostgresScript(pg, pws));
        } else if (lxc.redis && "redis" in passwords) {
            const redis = lxc.redis;
            stdin = passwords.redis.apply((pw) => renderRedisScript(redis, pw));
        } else {
            throw new Error(`${name}: a DataSetup needs postgres or redis settings, with their passwords`);
        }
        super(
            "ai-dualstack:serviceLxc:DataSetup",
            name,
            {
                description: describeSetup(lxc) ?? "",
                planLine: describeCommand(lxc),
                connection: rootSsh(args.address, args.sshPrivateKey),
                stdin,
                dependsOn: args.dependsOn,
            },
            withFormerTypes("ai-dualstack:serviceLxc:DataSetup", opts),
        );
        this.registerOutputs({ description: this.description });
    }
}
