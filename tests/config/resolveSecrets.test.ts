// The resolve step for secrets: one secret Output per name the config uses, templates filled from
// them, and a name the walk did not find refused as a defect of the program (its schema field unmarked).

import * as pulumi from "@pulumi/pulumi";
import { resolveSecrets } from "../../config/resolve/secrets";
import { secretNames } from "../../config/secretUses";
import { parsedConfig } from "../helpers/config";
import { promiseOf } from "../helpers/pulumi";

const cfg = parsedConfig("private");
const values = Object.fromEntries(secretNames(cfg).map((n) => [n, `value-of-${n}`]));
const secrets = resolveSecrets(cfg, { ...values, unusedSecret: "not walked" });

test("one Output per name the walk finds, and none for a name the config does not use", () => {
    expect([...secrets.byName.keys()]).toEqual(secretNames(cfg));
    expect(secrets.byName.has("unusedSecret")).toBe(false);
});

test("a field's value and a filled template are the values, held secret", async () => {
    const pw = secrets.value("redisPassword");
    expect(await promiseOf(pw)).toBe("value-of-redisPassword");
    expect(await pulumi.isSecret(pw)).toBe(true);
    const url = secrets.fill("postgresql://u:{{postgresPassword}}@h/{{postgresPassword}}-{{qdrantApiKey}}");
    expect(await promiseOf(url)).toBe(
        "postgresql://u:value-of-postgresPassword@h/value-of-postgresPassword-value-of-qdrantApiKey",
    );
    expect(await pulumi.isSecret(url)).toBe(true);
});

test("a name the walk did not find is a defect of the program, named with the fix", () => {
    expect(() => secrets.value("unusedSecret")).toThrow(
        "internal: serviceSecrets.unusedSecret is not among the secrets the config walk found; mark its schema field with secretRef or secretTemplate",
    );
});
