// The data layer: PostgreSQL and Redis set up inside their containers over SSH. The rendered
// scripts pass shellcheck; in mock mode the scripts stay secret and the AI VMs' services wait.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "child_process";
import { describeSetup, renderPostgresScript, renderRedisScript } from "../../../components/serviceLxc/dataSetup";
import { renderStartScript } from "../../../components/serviceLxc/serviceLxc";
import { LxcConfig } from "../../../config/schema";
import { PlannedStack } from "../../../testing/planStack";
import { parsedConfig } from "../../helpers/config";
import { one, record, runStack } from "../../helpers/pulumi";
import { shellcheckScripts, validator } from "../../helpers/sandbox";

const cfg = parsedConfig("private");
const postgres = cfg.containers["private-postgres"] as LxcConfig;
const redis = cfg.containers["private-redis"] as LxcConfig;
const pgScript = renderPostgresScript(postgres.postgres as NonNullable<LxcConfig["postgres"]>, {
    openwebui: "it's a secret",
});
const redisScript = renderRedisScript(redis.redis as NonNullable<LxcConfig["redis"]>, "r3dis'pw");

test("the scripts carry their inputs, quoted for bash", () => {
    expect(pgScript).toContain("AIDS_PG_DATABASES='openwebui'");
    expect(pgScript).toContain("AIDS_PG_ALLOW='10.10.10.10/32'");
    expect(pgScript).toContain("declare -A AIDS_PG_PASSWORDS=([openwebui]='it'\\''s a secret')");
    expect(redisScript).toContain("AIDS_REDIS_PASSWORD='r3dis'\\''pw'");
    expect(describeSetup(postgres)).toBe("PostgreSQL: databases openwebui; logins from 10.10.10.10/32");
});

test("the quoted password reads back unchanged in bash", () => {
    const out = execFileSync(
        "bash",
        ["-c", `${pgScript.split("\n").slice(0, 5).join("\n")}\nprintf %s "\${AIDS_PG_PASSWORDS[openwebui]}"`],
        {
            encoding: "utf8",
        },
    );
    expect(out).toBe("it's a secret");
});

const shellcheck = validator("shellcheck");
(shellcheck ? test : test.skip)("shellcheck finds nothing in the rendered setup and start scripts", () => {
    expect(() =>
        shellcheckScripts(shellcheck as string, {
            "postgres.sh": pgScript,
            "redis.sh": redisScript,
            "start.sh": renderStartScript(120, [8, 9, 10, 11]),
        }),
    ).not.toThrow();
});

describe("in mock mode", () => {
    let priv: PlannedStack;
    beforeAll(async () => {
        priv = await runStack("private");
    }, 60_000);

    test("each setup runs over SSH in its container, once it started behind its firewall, with its script secret", () => {
        for (const [lxc, ip] of [
            ["private-postgres", "10.10.10.20"],
            ["private-redis", "10.10.10.21"],
        ] as const) {
            const setup = one(priv.resources, command.remote.Command, `${lxc}-data-setup`);
            const container = one(priv.resources, proxmoxve.ContainerLegacy, lxc);
            expect(setup.inputs["connection"]).toMatchObject({ host: ip, user: "root" });
            const start = one(priv.resources, command.remote.Command, `${lxc}-start`);
            expect(setup.dependencies).toContain(start.urn);
            expect(start.dependencies).toContain(container.urn);
            expect(setup.secretInputs).toContain("stdin");
            expect(setup.inputs["create"]).toBe("bash -s");
        }
    });

    test("the private VM's services wait for the database and the cache", () => {
        const ready = one(priv.resources, command.remote.Command, "private-ai-workload-docker-ready");
        for (const lxc of ["private-postgres", "private-redis"]) {
            expect(ready.dependencies).toContain(one(priv.resources, command.remote.Command, `${lxc}-data-setup`).urn);
        }
    });
});

test("the Redis password the stack hands it reaches the script, which stays secret", async () => {
    const { DataSetup } = await import("../../../components/serviceLxc/dataSetup");
    const resources = await record(
        () =>
            new DataSetup("private-redis-data", {
                lxc: { redis: { passwordSecret: "redisPassword", maxmemoryMiB: 512, allowFrom: [] } },
                address: "10.10.10.21",
                sshPrivateKey: "key",
                passwords: { redis: pulumi.secret("r3dis'pw") },
                dependsOn: [],
            }),
    );
    const setup = one(resources, command.remote.Command, "private-redis-data-setup");
    expect(setup.inputs["stdin"]).toContain("AIDS_REDIS_PASSWORD='r3dis'\\''pw'");
    expect(setup.secretInputs).toContain("stdin");
});

test("settings without their passwords are refused before anything registers", async () => {
    const { DataSetup } = await import("../../../components/serviceLxc/dataSetup");
    await expect(
        record(
            () =>
                new DataSetup("private-redis-data", {
                    lxc: { redis: { passwordSecret: "redisPassword", maxmemoryMiB: 512, allowFrom: [] } },
                    address: "10.10.10.21",
                    sshPrivateKey: "key",
                    passwords: { postgres: {} },
                    dependsOn: [],
                }),
        ),
    ).rejects.toThrow("private-redis-data: a DataSetup needs postgres or redis settings, with their passwords");
});
