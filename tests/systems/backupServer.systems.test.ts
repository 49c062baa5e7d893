// The backup server's container (Proxmox Backup Server), booted: the set-ups `up` sends to 10.10.10.25 run
// twice on Debian 13 and 12. Proxmox's repositories are out of reach here, so PBS cannot be installed: the
// set-up must stop at the release key's download with a line naming its URL (the suite's own key, PBS 4 on
// trixie and PBS 3 on bookworm), leave no repository behind that would break the next apt-get update, and
// change nothing on a second run; the node exporter's set-up beside it still works.

import { PROXMOX_RELEASE_KEYS } from "../../lib/aptKeys";
import { Lab } from "../../testing/booted/lab";
import { BootedSystem, SUITE_LABEL, SUITES } from "../../testing/booted/system";
import type { PlannedStack } from "../../testing/planStack";
import {
    bootContainer,
    containerSetups,
    describeBooted,
    lab,
    privatePlan,
    runTwice,
    expectNestingFor,
} from "./helpers";

describeBooted.each(SUITES)("the backup server's container, booted on %s", (suite) => {
    let l: Lab;
    let system: BootedSystem;
    let plan: PlannedStack;
    beforeAll(async () => {
        plan = await privatePlan();
        l = lab();
        system = await bootContainer(l, suite, "private-backup");
    }, 180_000);
    afterAll(async () => {
        await system?.stop();
        l?.stop();
    }, 60_000);

    test(`${SUITE_LABEL[suite]}: PBS's install stops at its release key, naming the URL, and a second run changes nothing`, async () => {
        const setups = containerSetups(plan, "private-backup");
        expect(setups.map((s) => s.name).sort()).toEqual([
            "private-backup-node-exporter-setup",
            "private-pbs-server-setup",
        ]);
        const url = PROXMOX_RELEASE_KEYS[suite].url.replace(/\./g, "\\.");
        const { changes } = await runTwice(system, setups, {
            expect: {
                "private-pbs-server-setup": new RegExp(`could not fetch the apt key at ${url}`),
            },
        });
        expect(changes).toEqual([]);
    }, 600_000);

    test("no half-added repository is left: apt-get update still works, and the node exporter runs", async () => {
        expect(await system.sh("ls /etc/apt/sources.list.d/")).not.toMatch(/pbs|proxmox/);
        await system.sh("apt-get update -qq");
        expect((await system.sh("systemctl is-active prometheus-node-exporter")).trim()).toBe("active");
        expect((await system.ssh("command -v proxmox-backup-manager")).code).not.toBe(0);
    }, 60_000);

    test("nesting: its services ask for mount namespaces, so the backup role has nesting on", () =>
        expectNestingFor(system, "backup", []));
});
