// The one walk of the parsed config that finds every secret a stack uses, by the schema's secret
// fields: each use with its config path, templates' {{names}} included, monitoring's only where its
// server runs.

import { secretNames, secretUses } from "../../config/secretUses";
import { parsedConfig } from "../helpers/config";

test("the private stack's secrets: each where the config names it", () => {
    const uses = secretUses(parsedConfig("private"));
    expect(uses).toContainEqual({
        path: "vms.private-ai.services.open-webui.secretEnvironment.DATABASE_URL",
        name: "postgresPassword",
    });
    expect(uses).toContainEqual({ path: "containers.private-redis.redis.passwordSecret", name: "redisPassword" });
    expect(uses).toContainEqual({ path: "monitoring.grafanaAdminPasswordSecret", name: "grafanaAdminPassword" });
    expect(uses).toContainEqual({ path: "backup.server.datastores.public.passwordSecret", name: "pbsPublicPassword" });
    // The same set the stack held by hand before the walk (config/secrets.ts, monitoring, backup).
    expect(secretNames(parsedConfig("private"))).toEqual([
        "alertWebhookUrl",
        "anythingllmAuthToken",
        "anythingllmJwtSecret",
        "crowdsecBouncerKey",
        "grafanaAdminPassword",
        "jupyterToken",
        "pbsPrivatePassword",
        "pbsPublicPassword",
        "postgresPassword",
        "qdrantApiKey",
        "ragApiKey",
        "redisPassword",
        "runnerRegistrationToken",
        "searxngSecret",
        "webuiAdminPassword",
        "webuiSecretKey",
        "wireguardPrivateKey",
    ]);
});

test("the public stack runs no monitoring server, so Grafana's and the alert receiver's secrets are not its own", () => {
    expect(secretNames(parsedConfig("public"))).toEqual([
        "chromaToken",
        "pbsPublicPassword",
        "postgresPassword",
        "redisPassword",
        "searxngSecret",
        "webuiAdminPassword",
        "webuiSecretKey",
    ]);
});
