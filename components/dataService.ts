// The data layer inside the service containers: PostgreSQL and Redis installed and configured over
// SSH by idempotent scripts (components/scripts/*-setup.sh), with passwords from serviceSecrets.
// The script reaches the container on stdin, so Pulumi keeps it secret as a whole; the plain
// description of what it sets up is in the component's outputs and the plan.

import * as command from "@pulumi/command";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { LxcConfig } from "../config/schema";
import { shellQuote } from "./hostBootstrap";

const script = (file: string) => fs.readFileSync(path.join(__dirname, "scripts", file), "utf8");
const POSTGRES = script("postgres-setup.sh");
const REDIS = script("redis-setup.sh");

const header = [
    "#!/usr/bin/env bash",
    "# Rendered by ai-dualstack (components/dataService.ts). Do not edit in the container.",
];

/** PostgreSQL: databases (each with its owner role), their passwords, the networks that may log in. */
export function renderPostgresScript(
    pg: NonNullable<LxcConfig["postgres"]>,
    passwords: Readonly<Record<string, string>>,
): string {
    const dbs = Object.keys(pg.databases).sort();
    const entries = dbs.map((db) => `[${db}]=${shellQuote(passwords[db] ?? "")}`);
    return [
        ...header,
        `AIDS_PG_DATABASES=${shellQuote(dbs.join(" "))}`,
        `AIDS_PG_ALLOW=${shellQuote(pg.allowFrom.join(" "))}`,
        `declare -A AIDS_PG_PASSWORDS=(${entries.join(" ")})`,
        "",
        POSTGRES,
    ].join("\n");
}

export function renderRedisScript(redis: NonNullable<LxcConfig["redis"]>, password: string): string {
    return [
        ...header,
        `AIDS_REDIS_PASSWORD=${shellQuote(password)}`,
        `AIDS_REDIS_MAXMEMORY_MIB=${shellQuote(String(redis.maxmemoryMiB))}`,
        "",
        REDIS,
    ].join("\n");
}

/** What a container's setup does, in one plain line (no secret). */
export function describeSetup(ct: LxcConfig): string | undefined {
    if (ct.postgres) {
        const dbs = Object.keys(ct.postgres.databases).sort().join(", ") || "none";
        return `PostgreSQL: databases ${dbs}; logins from ${ct.postgres.allowFrom.join(", ") || "nowhere"}`;
    }
    if (ct.redis) return `Redis: password required, maxmemory ${ct.redis.maxmemoryMiB} MiB (LRU)`;
    return undefined;
}

export interface DataServiceArgs {
    readonly container: LxcConfig;
    /** The container's static address. */
    readonly address: string;
    /** Private key whose public half is in the container's sshPublicKeys (root). */
    readonly sshPrivateKey: pulumi.Input<string>;
    readonly secrets: Readonly<Record<string, pulumi.Output<string>>>;
    /** The container itself: it must run before anything is installed in it. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class DataService extends pulumi.ComponentResource {
    public readonly setup: command.remote.Command;
    public readonly description: string;

    constructor(name: string, args: DataServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:data:DataService", name, {}, opts);
        const ct = args.container;
        const secret = (n: string) => args.secrets[n] ?? pulumi.output("");
        let stdin: pulumi.Output<string>;
        if (ct.postgres) {
            const pg = ct.postgres;
            const dbs = Object.keys(pg.databases).sort();
            stdin = pulumi
                .all(dbs.map((db) => secret((pg.databases[db] as { passwordSecret: string }).passwordSecret)))
                .apply((pws) =>
                    renderPostgresScript(pg, Object.fromEntries(dbs.map((db, i) => [db, pws[i] as string]))),
                );
        } else if (ct.redis) {
            const redis = ct.redis;
            stdin = secret(redis.passwordSecret).apply((pw) => renderRedisScript(redis, pw));
        } else {
            throw new Error(`${name}: a DataService needs postgres or redis settings`);
        }
        this.description = describeSetup(ct) ?? "";
        this.setup = new command.remote.Command(
            `${name}-setup`,
            {
                connection: { host: args.address, user: "root", privateKey: args.sshPrivateKey, dialErrorLimit: 30 },
                create: "bash -s",
                update: "bash -s",
                stdin: pulumi.secret(stdin),
                logging: "stdoutAndStderr",
            },
            { parent: this, dependsOn: args.dependsOn },
        );
        this.registerOutputs({ description: this.description });
    }
}
