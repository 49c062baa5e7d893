// The host check reads the node's Proxmox VE release from `pveversion` and refuses a node whose
// major version differs from proxmox.majorVersion: the API roles name privileges of one major
// (PVE 9 refuses VM.Monitor as an invalid privilege, PVE 8 knows no VM.GuestAgent.*; pve-access-control
// src/PVE/AccessControl.pm, $privgroups and add_role_privs). Fixtures: `pveversion` as 9.0 and 8.4
// print it (pve-manager bin/pveversion: "pve-manager/<version>/<commit> (running kernel: ...)").

import * as fs from "fs";
import * as path from "path";
import { bootstrapPlan, renderCheckScript } from "../../../components/host/bootstrap";
import { resolveNode } from "../../../config/resolve";
import { NodeConfig } from "../../../config/schema";
import { parsedConfig } from "../../helpers/config";
import { makeSandbox, PciDevice, Sandbox } from "../../helpers/sandbox";

const cfg = parsedConfig("private");
const node = resolveNode("pve1", cfg.nodes["pve1"] as NodeConfig, "private");
const planFor = (majorVersion: 8 | 9) => bootstrapPlan(node, "private", { ...cfg.proxmox, majorVersion });

/** The shipped config's cards (tests/components/host/pciIdentity.test.ts has their sources). */
const CARDS: PciDevice[] = [
    { address: "0000:01:00.0", vendorDeviceId: "10de:2b85", subsystemId: "1458:416f", iommuGroup: 14, driver: null },
    { address: "0000:01:00.1", vendorDeviceId: "10de:22e8", subsystemId: "1458:416f", iommuGroup: 14, driver: null },
    { address: "0000:02:00.0", vendorDeviceId: "10de:2504", subsystemId: "1462:397d", iommuGroup: 15, driver: null },
    { address: "0000:02:00.1", vendorDeviceId: "10de:228e", subsystemId: "1462:397d", iommuGroup: 15, driver: null },
];

/** A sandbox whose `pveversion` prints the fixture. */
function withPveversion(fixture: string): Sandbox {
    const sb = makeSandbox(CARDS);
    const output = fs.readFileSync(path.join(__dirname, "../../fixtures/host", fixture), "utf8");
    fs.writeFileSync(
        path.join(sb.root, "stand-in-bin", "pveversion"),
        `#!/usr/bin/env bash\nprintf '%s' '${output}'\n`,
        {
            mode: 0o755,
        },
    );
    return sb;
}

test.each([
    ["pveversion-9.0.3.txt", 9, "9.0"],
    ["pveversion-8.4.1.txt", 8, "8.4"],
] as const)("%s with proxmox.majorVersion %i: passes and reports the release", (fixture, major, release) => {
    const run = withPveversion(fixture).run(renderCheckScript(planFor(major)));
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`ai-dualstack[private]: Proxmox VE ${release} (proxmox.majorVersion ${major})`);
});

test.each([
    ["pveversion-9.0.3.txt", 8, "9.0", 9],
    ["pveversion-8.4.1.txt", 9, "8.4", 8],
] as const)(
    "%s with proxmox.majorVersion %i is refused, naming the key and the fix",
    (fixture, major, release, actual) => {
        const run = withPveversion(fixture).run(renderCheckScript(planFor(major)));
        expect(run.status).toBe(1);
        expect(run.stderr).toBe(
            `ai-dualstack[private]: ERROR: the node runs Proxmox VE ${release}, but proxmox.majorVersion says ${major}; set proxmox.majorVersion: ${actual} (the API roles are built for it)\n`,
        );
    },
);

test("8.3 is still refused as too old, before the major is compared", () => {
    const run = withPveversion("pveversion-8.3.5.txt").run(renderCheckScript(planFor(8)));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("Proxmox VE 8.3 is older than 8.4");
});

test("the default is 9, and the check script carries the configured major", () => {
    expect(cfg.proxmox.majorVersion).toBe(9);
    expect(renderCheckScript(planFor(8))).toMatch(/AIDS_PVE_MAJOR='?8'?/);
});
