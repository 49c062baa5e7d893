// Redis's service container, booted: the set-ups `up` sends to 10.10.10.21 run twice on Debian 13 and 12;
// then, from the AI VM's address, a command without AUTH is refused and AUTH with the secret works.

import { SUITE_LABEL, SUITES } from "../../testing/booted/system";
import { parsedConfig } from "../helpers/config";
import {
    addressOf,
    bootedContainerFor,
    containerSetups,
    describeBooted,
    GUEST_NET,
    runTwice,
    expectNestingFor,
} from "./helpers";

const redis = parsedConfig("private").containers["private-redis"]?.redis;
const PLACEHOLDER = "offline-placeholder-redisPassword"; // the plan's stand-in for serviceSecrets.redisPassword

/** Sends RESP inline commands over TCP from `exec`'s address and returns Redis's replies. */
function redisSay(exec: (this: void, cmd: string, args: string[]) => string, commands: string[]): string {
    const payload = commands.map((c) => `${c}\\r\\n`).join("");
    return exec("bash", [
        "-c",
        `exec 3<>/dev/tcp/${addressOf("private-redis")}/6379; printf '${payload}' >&3; timeout 2 cat <&3 || true`,
    ]);
}

describeBooted.each(SUITES)("Redis's container, booted on %s", (suite) => {
    const ct = bootedContainerFor(suite, "private-redis");

    test(`${SUITE_LABEL[suite]}: every set-up up sends runs, and a second run changes nothing`, async () => {
        const setups = containerSetups(ct.plan, "private-redis");
        expect(setups.map((s) => s.name)).toEqual(["private-redis-data-setup", "private-redis-node-exporter-setup"]);
        const { changes } = await runTwice(ct.system, setups);
        expect(changes).toEqual([]);
    }, 600_000);

    test("from the AI VM's address: no command without AUTH, and AUTH with the secret works", () => {
        expect(redis?.allowFrom).toEqual(["10.10.10.10/32"]);
        const client = ct.lab.addHost("10.10.10.10", GUEST_NET.prefix, GUEST_NET.gateway);
        expect(redisSay(client.exec, ["PING"])).toMatch(/^-NOAUTH Authentication required/);
        expect(redisSay(client.exec, ["AUTH wrong"])).toMatch(/^-(WRONGPASS|ERR invalid password)/);
        expect(redisSay(client.exec, [`AUTH ${PLACEHOLDER}`, "PING", "CONFIG GET maxmemory"])).toBe(
            `+OK\r\n+PONG\r\n*2\r\n$9\r\nmaxmemory\r\n$9\r\n${(redis?.maxmemoryMiB ?? 0) * 1024 * 1024}\r\n`,
        );
    }, 60_000);

    test("nesting: its services ask for mount namespaces, so the redis role has nesting on", () =>
        expectNestingFor(ct.system, "redis", ["redis-server.service"]));
});
