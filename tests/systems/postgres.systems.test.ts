// PostgreSQL's service container, booted: the set-ups `up` sends to 10.10.10.20 (the data set-up, the
// node exporter, the pg_dump timer) run twice on Debian 13 and 12; then the configured role logs in over
// TCP from the one allowed address with its password, and a wrong password and another address are refused.

import { Lab } from "../../testing/booted/lab";
import { BootedSystem, SUITE_LABEL, SUITES } from "../../testing/booted/system";
import type { PlannedStack } from "../../testing/planStack";
import { parsedConfig } from "../helpers/config";
import {
    addressOf,
    bootContainer,
    containerSetups,
    describeBooted,
    GUEST_NET,
    lab,
    privatePlan,
    runTwice,
} from "./helpers";

const pg = parsedConfig("private").containers["private-postgres"]?.postgres;
const PLACEHOLDER = "offline-placeholder-postgresPassword"; // the plan's stand-in for serviceSecrets.postgresPassword

describeBooted.each(SUITES)("PostgreSQL's container, booted on %s", (suite) => {
    let l: Lab;
    let system: BootedSystem;
    let plan: PlannedStack;
    beforeAll(async () => {
        plan = await privatePlan();
        l = lab();
        system = await bootContainer(l, suite, "private-postgres");
    }, 180_000);
    afterAll(async () => {
        await system?.stop();
        l?.stop();
    }, 60_000);

    test(`${SUITE_LABEL[suite]}: every set-up up sends runs, and a second run changes nothing`, async () => {
        const setups = containerSetups(plan, "private-postgres");
        expect(setups.map((s) => s.name)).toEqual([
            "private-postgres-data-setup",
            "private-postgres-node-exporter-setup",
            "private-postgres-backup-timer",
        ]);
        const { changes } = await runTwice(system, setups);
        expect(changes).toEqual([]);
    }, 600_000);

    test("the configured role logs in over TCP from its allowed address with the secret", () => {
        expect(pg?.allowFrom).toEqual(["10.10.10.10/32"]);
        const client = l.addHost("10.10.10.10", GUEST_NET.prefix, GUEST_NET.gateway);
        const psql = (password: string) =>
            client.exec("env", [
                `PGPASSWORD=${password}`,
                "psql",
                "-X",
                "-qAt",
                `-h${addressOf("private-postgres")}`,
                "-Uopenwebui",
                "-dopenwebui",
                "-c",
                "SELECT current_user || '@' || host(inet_server_addr())",
            ]);
        expect(psql(PLACEHOLDER).trim()).toBe("openwebui@10.10.10.20");
        expect(() => psql("wrong")).toThrow(/password authentication failed for user "openwebui"/);
    }, 60_000);

    test("another address on the same network is refused by pg_hba", () => {
        const other = l.addHost("10.10.10.99", GUEST_NET.prefix, GUEST_NET.gateway);
        expect(() =>
            other.exec("env", [
                `PGPASSWORD=${PLACEHOLDER}`,
                "psql",
                "-X",
                "-h10.10.10.20",
                "-Uopenwebui",
                "-dopenwebui",
                "-c",
                "SELECT 1",
            ]),
        ).toThrow(/no pg_hba.conf entry for host "10.10.10.99"/);
    });
});
