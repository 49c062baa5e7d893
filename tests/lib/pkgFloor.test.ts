// Packages in the rendered set-ups: none asks for an exact Debian revision and none is held (issue 19,
// item 4). Exact revisions (crowdsec-firewall-bouncer=0.0.25-4~deb12u1, 1.5.0-1+b6) exist in one suite
// only: trixie (Proxmox VE 9, Debian 13) has none of bookworm's, and bookworm drops them at a point
// release; `apt-mark hold` keeps security updates out (apt-mark(8)). Each set-up asks for a floor instead,
// which pkg_floor (lib/scripts/pkg-floor.sh) meets from the system's own suite; the monitoring sandbox
// test runs it against dpkg's own version comparison.

import { renderPbsSetup } from "../../components/backup/render";
import {
    monitoringFiles,
    renderHostScript,
    renderMonitoringScript,
    renderNodeExporterScript,
} from "../../components/monitoring/scripts";
import { renderCrowdsecScript, renderSecurityHostScript } from "../../components/serviceLxc/security";
import { LxcConfig } from "../../config/schema";
import { monitoringServer } from "../components/monitoring/fixtures";
import { parsedConfig } from "../helpers/config";

const REVISION = /(~deb1[23]u[0-9]|[0-9]-[0-9]+\+b[0-9]|~bpo1[23])/;

function scripts(): Record<string, string> {
    const server = monitoringServer();
    const security = parsedConfig("private").containers["private-security"] as LxcConfig;
    const cs = security.crowdsec as NonNullable<LxcConfig["crowdsec"]>;
    const token = { user: "aids-monitoring@pve", name: "monitoring", value: "t" };
    const pbs = {
        container: "private-backup",
        node: "pve1",
        address: "10.10.10.25",
        version: "3.4.1-1",
        gcSchedule: "*-*-* 03:30",
        pruneSchedule: "*-*-* 03:00",
        verifySchedule: "sat 04:00",
        datastores: [
            {
                environment: "private" as const,
                storage: "tank-private",
                sizeGiB: 600,
                passwordSecret: "a",
                retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 6 },
            },
        ],
    };
    return {
        monitoring: renderMonitoringScript(
            server,
            monitoringFiles(server, { webhookUrl: "https://h.example/x" }, "pw"),
            "pw",
        ),
        "node-exporter": renderNodeExporterScript(server.versions.nodeExporter),
        host: renderHostScript("pve1", server, token),
        crowdsec: renderCrowdsecScript(cs, "10.10.10.22", "key"),
        "security-host": renderSecurityHostScript(security, "10.10.10.22", "key"),
        pbs: renderPbsSetup(pbs, { private: "pw" }),
    };
}

test.each(Object.entries(scripts()))("%s: Debian packages by floor, no exact revision, nothing held", (_, script) => {
    // Comments may quote a revision as an example; the commands may not.
    const code = script.split("\n").filter((l) => !/^\s*#/.test(l));
    expect(code.filter((l) => REVISION.test(l))).toEqual([]);
    expect(code.filter((l) => /apt-mark\s+hold/.test(l))).toEqual([]);
});

test("the shipped floors are versions without a Debian revision, and each set-up installs by pkg_floor", () => {
    const server = monitoringServer();
    for (const v of [server.versions.prometheus, server.versions.alertmanager, server.versions.nodeExporter])
        expect(v).toMatch(/^\d+\.\d+\.\d+$/);
    const all = scripts();
    expect(all["crowdsec"]).toContain('pkg_floor crowdsec "$AIDS_CS_MIN_VERSION"');
    expect(all["security-host"]).toContain('pkg_floor crowdsec-firewall-bouncer "$AIDS_BOUNCER_MIN_VERSION" nftables');
    expect(all["monitoring"]).toContain('pkg_floor prometheus "$AIDS_PROMETHEUS_VERSION"');
});
