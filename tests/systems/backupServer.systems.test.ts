// The backup server's container (Proxmox Backup Server), booted: the set-ups `up` sends to 10.10.10.25 run
// twice on Debian 13 and 12. Proxmox's repositories are out of reach here, so PBS cannot be installed: the
// set-up must stop at the release key's download with a line naming its URL (the suite's own key, PBS 4 on
// trixie and PBS 3 on bookworm), leave no repository behind that would break the next apt-get update, and
// change nothing on a second run; the node exporter's set-up beside it still works.

import { PROXMOX_RELEASE_KEYS } from "../../lib/aptKeys";
import { SUITE_LABEL, SUITES } from "../../testing/booted/system";
import { bootedContainerFor, containerSetups, describeBooted, runTwice, expectNestingFor } from "./helpers";

describeBooted.each(SUITES)("the backup server's container, booted on %s", (suite) => {
    const ct = bootedContainerFor(suite, "private-backup");

    test(`${SUITE_LABEL[suite]}: PBS's install stops at its release key, naming the URL, and a second run changes nothing`, async () => {
        const setups = containerSetups(ct.plan, "private-backup");
        expect(setups.map((s) => s.name).sort()).toEqual([
            "private-backup-node-exporter-setup",
            "private-pbs-server-setup",
        ]);
        const url = PROXMOX_RELEASE_KEYS[suite].url.replace(/\./g, "\\.");
        const { changes } = await runTwice(ct.system, setups, {
            expect: {
                "private-pbs-server-setup": new RegExp(`could not fetch the apt key at ${url}`),
            },
        });
        expect(changes).toEqual([]);
    }, 600_000);

    test("no half-added repository is left: apt-get update still works, and the node exporter runs", async () => {
        expect(await ct.system.sh("ls /etc/apt/sources.list.d/")).not.toMatch(/pbs|proxmox/);
        await ct.system.sh("apt-get update -qq");
        expect((await ct.system.sh("systemctl is-active prometheus-node-exporter")).trim()).toBe("active");
        expect((await ct.system.ssh("command -v proxmox-backup-manager")).code).not.toBe(0);
    }, 60_000);

    test("nesting: its services ask for mount namespaces, so the backup role has nesting on", () =>
        expectNestingFor(ct.system, "backup", []));
});
