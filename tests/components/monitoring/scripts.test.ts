// The monitoring set-up scripts, rendered, checked by shellcheck and run for real by bash in a
// sandbox (stand-ins for apt, systemd, curl and pvesh; the real promtool and amtool): twice, to prove
// them idempotent, and once with a rule file promtool refuses, which must be rolled back. The
// textfile writers (pool status, Xid) run against stand-ins of zpool and journalctl, and their output
// and the agreed probe and backup formats pass `promtool check metrics`.

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PATHS } from "../../../components/monitoring/configFiles";
import { GRAFANA_APT_KEY } from "../../../lib/aptKeys";
import { makeKey } from "../../helpers/gpgKey";
import {
    ManagedFile,
    hostFiles,
    monitoringFiles,
    renderHostScript,
    renderMonitoringScript,
    renderNodeExporterScript,
} from "../../../components/monitoring/scripts";
import { MonitoringServer } from "../../../config/resolve/monitoring";
import { shellcheckScripts, validator } from "../../helpers/sandbox";
import { backupTextfile, monitoringServer, probeTextfile } from "./fixtures";
import { makeGuestSandbox } from "./stubs";

const shellcheck = validator("shellcheck");
const promtool = validator("promtool");
const amtool = validator("amtool");
const SCRIPTS = path.join(__dirname, "..", "..", "..", "components", "monitoring", "scripts");
const token = { user: "aids-monitoring@pve", name: "monitoring", value: "11111111-2222-3333-4444-555555555555" };

// Grafana's key, as the stand-in curl serves it: one made here, pinned in place of Grafana's.
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-grafana-key-"));
const grafanaKey = makeKey(keyDir);
process.env["AIDS_CURL_BODY"] = grafanaKey.file;
afterAll(() => fs.rmSync(keyDir, { recursive: true, force: true }));
/** The rendered set-up, its Grafana repository command pinned to `fingerprint` instead of Grafana's. */
function monitoringScript(f: ManagedFile[], fingerprint = grafanaKey.fingerprint): string {
    return renderMonitoringScript(server, f, "grafana-pw").replace(
        /^AIDS_GRAFANA_REPO_B64='([^']*)'$/m,
        (_, b64: string) => {
            const cmd = Buffer.from(b64, "base64")
                .toString("utf8")
                .replaceAll(GRAFANA_APT_KEY.fingerprint, fingerprint);
            return `AIDS_GRAFANA_REPO_B64='${Buffer.from(cmd, "utf8").toString("base64")}'`;
        },
    );
}

let server: MonitoringServer;
let files: ManagedFile[];
beforeAll(() => {
    server = monitoringServer();
    files = monitoringFiles(server, { webhookUrl: "https://hooks.example.com/x" }, "grafana-pw");
});

(shellcheck ? test : test.skip)("shellcheck finds nothing in the rendered set-ups and the textfile writers", () => {
    shellcheckScripts(shellcheck as string, {
        "monitoring.sh": monitoringScript(files),
        "node-exporter.sh": renderNodeExporterScript("1.5.0"),
        "host.sh": renderHostScript("pve1", server, token),
        "zpool-textfile.sh": fs.readFileSync(path.join(SCRIPTS, "zpool-textfile.sh"), "utf8"),
        "xid-textfile.sh": fs.readFileSync(path.join(SCRIPTS, "xid-textfile.sh"), "utf8"),
    });
});

(promtool && amtool ? describe : describe.skip)("the monitoring container's set-up, run in a sandbox", () => {
    test("installs the pinned versions and writes every file, then a second run changes nothing", () => {
        const sb = makeGuestSandbox();
        const first = sb.run(monitoringScript(files));
        expect(first.output).toContain(`ready: ${files.length} file(s) changed`);
        expect(first.status).toBe(0);
        const calls = sb.calls();
        // Debian's packages by name from the container's own suite (exact revisions such as 1.5.0-1+b6
        // exist in one suite only); Grafana, from its own repository, exactly; nothing held, as a hold
        // keeps the suite's security updates out.
        for (const pkg of [
            " prometheus",
            " prometheus-alertmanager",
            " prometheus-node-exporter",
            ` grafana=${server.versions.grafana}`,
        ])
            expect(calls.some((c) => c.startsWith("apt-get install") && c.endsWith(pkg))).toBe(true);
        expect(calls.filter((c) => c.startsWith("apt-mark hold"))).toEqual([]);
        for (const f of files) expect(sb.read(f.path)).toBe(`${f.content.replace(/\n+$/, "")}\n`);
        expect(sb.read("/etc/default/prometheus")).toContain(
            "--storage.tsdb.retention.time=30d --storage.tsdb.retention.size=20GB",
        );
        expect(sb.read(PATHS.alertmanagerConfig)).toContain("https://hooks.example.com/x");
        for (const unit of ["prometheus", "prometheus-alertmanager", "prometheus-node-exporter", "grafana-server"])
            expect(calls).toContain(`systemctl restart ${unit}`);
        expect(calls.filter((c) => c.startsWith("runuser"))).toEqual([
            "runuser -u grafana -- grafana cli --homepath /usr/share/grafana --config /etc/grafana/grafana.ini admin reset-admin-password --password-from-stdin",
        ]);
        // The password reaches grafana cli on its stdin (grafana pkg/cmd/grafana-cli/commands/
        // reset_password_command.go reads one line), never in an argument that `ps` shows.
        expect(fs.readFileSync(path.join(sb.state, "stdin-runuser"), "utf8")).toBe("grafana-pw\n");
        expect(calls.filter((c) => c.includes("grafana-pw"))).toEqual([]);

        sb.clearLog();
        const second = sb.run(monitoringScript(files));
        expect(second.status).toBe(0);
        expect(second.output).toContain("ready: 0 file(s) changed");
        expect(sb.calls().filter((c) => c.startsWith("apt-get") || c.startsWith("systemctl restart"))).toEqual([]);
    });

    test("Grafana's repository only with the pinned key: any other is refused, nothing added or installed", () => {
        const sb = makeGuestSandbox();
        const r = sb.run(monitoringScript(files, "0".repeat(40)));
        expect(r.status).not.toBe(0);
        expect(r.output.trim().split("\n").at(-1)).toBe(
            `ai-dualstack monitoring: Grafana ${server.versions.grafana} not installed from its apt repository https://apt.grafana.com: the apt key at https://apt.grafana.com/gpg.key has fingerprint ${grafanaKey.fingerprint}, not the pinned ${"0".repeat(40)}: check the vendor's announcement, then update lib/aptKeys.ts`,
        );
        expect(fs.existsSync(path.join(sb.root, "etc/apt/sources.list.d/grafana.list"))).toBe(false);
        expect(fs.existsSync(path.join(sb.root, "etc/apt/keyrings/grafana.gpg"))).toBe(false);
        expect(sb.calls().filter((c) => c.includes("grafana="))).toEqual([]);
        // The pinned one: the keyring and the repository, signed-by that keyring.
        const ok = sb.run(monitoringScript(files));
        expect(ok.status).toBe(0);
        expect(sb.read("/etc/apt/sources.list.d/grafana.list")).toBe(
            "deb [signed-by=/etc/apt/keyrings/grafana.gpg] https://apt.grafana.com stable main\n",
        );
    });

    test("Grafana's repository unreachable: the rest set up first, then one line naming it; a rerun changes nothing", () => {
        const sb = makeGuestSandbox();
        const unreachable = { AIDS_CURL_FAIL: "curl: (6) Could not resolve host: apt.grafana.com" };
        const line = `ai-dualstack monitoring: Grafana ${server.versions.grafana} not installed from its apt repository https://apt.grafana.com: curl: (6) Could not resolve host: apt.grafana.com; could not fetch the apt key at https://apt.grafana.com/gpg.key`;
        const r = sb.run(monitoringScript(files), unreachable);
        expect(r.status).toBe(1);
        expect(r.output.trim().split("\n").at(-1)).toBe(line);
        // Before the repository was tried: Debian's packages, every file (Grafana's too), the validators,
        // and the services whose files changed; after it, nothing of Grafana's.
        for (const f of files) expect(sb.read(f.path)).toBe(`${f.content.replace(/\n+$/, "")}\n`);
        const calls = sb.calls();
        for (const unit of ["prometheus", "prometheus-alertmanager", "prometheus-node-exporter"])
            expect(calls).toContain(`systemctl restart ${unit}`);
        const tried = calls.findIndex((c) => c.startsWith("curl") && c.includes("https://apt.grafana.com/gpg.key"));
        expect(tried).toBeGreaterThan(calls.lastIndexOf("systemctl restart prometheus"));
        expect(calls.filter((c) => c.includes("grafana"))).toEqual([calls[tried]]);
        expect(fs.existsSync(path.join(sb.root, "etc/apt/sources.list.d/grafana.list"))).toBe(false);
        expect(fs.existsSync(path.join(sb.root, "etc/apt/keyrings/grafana.gpg"))).toBe(false);

        sb.clearLog();
        const again = sb.run(monitoringScript(files), unreachable);
        expect(again.status).toBe(1);
        expect(again.output.trim().split("\n").at(-1)).toBe(line);
        expect(
            sb
                .calls()
                .filter((c) => !c.startsWith("curl") && !/^(systemctl (enable|is-active)|apt-mark showhold)/.test(c)),
        ).toEqual([]);
    });

    test("a managed file whose mode drifted gets it back, and only its service restarts", () => {
        const sb = makeGuestSandbox();
        expect(sb.run(monitoringScript(files)).status).toBe(0);
        const file = path.join(sb.root, PATHS.prometheusConfig);
        fs.chmodSync(file, 0o600);
        sb.clearLog();
        const r = sb.run(monitoringScript(files));
        expect(r.status).toBe(0);
        expect(r.output).toContain("ready: 1 file(s) changed");
        expect(fs.statSync(file).mode & 0o7777).toBe(0o644);
        expect(fs.existsSync(`${file}.aids-previous`)).toBe(false);
        expect(sb.calls().filter((c) => c.startsWith("systemctl restart"))).toEqual(["systemctl restart prometheus"]);
    });

    test("a rule file promtool refuses is rolled back, and nothing restarts", () => {
        const sb = makeGuestSandbox();
        expect(sb.run(monitoringScript(files)).status).toBe(0);
        sb.clearLog();
        const broken = files.map((f) =>
            f.path === PATHS.rules
                ? { ...f, content: "groups:\n- name: x\n  rules:\n  - alert: A\n    expr: 'up =='\n" }
                : f,
        );
        const r = sb.run(monitoringScript(broken));
        expect(r.status).toBe(1);
        expect(r.output).toContain("refused: promtool check rules; the previous files are back in place");
        // With what promtool said.
        expect(r.output).toContain(`rule 1, "A": could not parse expression`);
        expect(sb.read(PATHS.rules)).toContain("TargetDown");
        expect(sb.calls().filter((c) => c.startsWith("systemctl restart"))).toEqual([]);
    });
});

test("node-exporter in a container: from the container's suite, at least the floor, never held; then nothing", () => {
    const sb = makeGuestSandbox();
    // An older set-up left 1.5.0-1+b6 installed and held: it meets the floor, and the hold goes.
    fs.writeFileSync(path.join(sb.state, "pkg-prometheus-node-exporter"), "1.5.0-1+b6\n");
    fs.writeFileSync(path.join(sb.state, "held-prometheus-node-exporter"), "");
    expect(sb.run(renderNodeExporterScript("1.5.0")).status).toBe(0);
    expect(sb.calls().filter((c) => /^apt-(get|mark) (install|hold|unhold)/.test(c))).toEqual([
        "apt-mark unhold prometheus-node-exporter",
    ]);
    // Below the floor (dpkg --compare-versions): the suite's candidate is installed, by name only.
    sb.clearLog();
    fs.writeFileSync(path.join(sb.state, "pkg-prometheus-node-exporter"), "1.4.0-1\n");
    fs.writeFileSync(path.join(sb.state, "candidate-prometheus-node-exporter"), "1.9.1-1\n");
    const up = sb.run(renderNodeExporterScript("1.5.0"));
    expect(up.status).toBe(0);
    expect(up.output).toContain("ready: prometheus-node-exporter 1.9.1-1 on :9100");
    expect(sb.calls().filter((c) => c.startsWith("apt-get install") || c.startsWith("apt-mark hold"))).toEqual([
        "apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends prometheus-node-exporter",
    ]);
    sb.clearLog();
    expect(sb.run(renderNodeExporterScript("1.5.0")).status).toBe(0);
    expect(sb.calls().filter((c) => c.startsWith("apt-get") || c.startsWith("systemctl restart"))).toEqual([]);
    // A suite that offers less than the floor is refused, by name, version and suite.
    fs.writeFileSync(path.join(sb.state, "pkg-prometheus-node-exporter"), "1.4.0-1\n");
    fs.writeFileSync(path.join(sb.state, "candidate-prometheus-node-exporter"), "1.4.0-1\n");
    fs.mkdirSync(path.join(sb.root, "etc"), { recursive: true });
    fs.writeFileSync(path.join(sb.root, "etc", "os-release"), "VERSION_CODENAME=bookworm\n");
    const old = sb.run(renderNodeExporterScript("1.5.0"));
    expect(old.status).toBe(1);
    expect(old.output).toContain(
        "ai-dualstack: prometheus-node-exporter 1.4.0-1 from Debian bookworm is older than 1.5.0, the oldest version the set-up works with",
    );
});

test("the host: exporters pinned, the token in pve.yml, one firewall rule for the monitoring host, re-made when it moves", () => {
    const sb = makeGuestSandbox();
    const r = sb.run(renderHostScript("pve1", server, token));
    expect(r.status).toBe(0);
    for (const f of hostFiles(token)) expect(sb.read(f.path)).toBe(`${f.content.replace(/\n+$/, "")}\n`);
    expect(sb.read("/etc/prometheus/pve.yml")).toContain(`token_value: ${token.value}`);
    expect(sb.read("/etc/default/prometheus-node-exporter")).toContain("--collector.zfs");
    const calls = sb.calls();
    expect(calls).toContain(`pip install -q prometheus-pve-exporter==${server.versions.pveExporter}`);
    expect(calls.filter((c) => c.startsWith("pvesh create"))).toEqual([
        "pvesh create /nodes/pve1/firewall/rules --type in --action ACCEPT --enable 1 --proto tcp --dport 9100,9221 --source 10.10.10.24 --comment ai-dualstack monitoring: node and pve exporters",
    ]);
    expect(calls).toContain("systemctl restart aidualstack-pve-exporter");
    expect(calls).toContain("systemctl start aidualstack-zpool-textfile.service");
    sb.clearLog();
    expect(sb.run(renderHostScript("pve1", server, token)).status).toBe(0);
    expect(
        sb
            .calls()
            .filter((c) => /^(pip install|pvesh (create|delete)|systemctl (restart|start)|apt-get install)/.test(c)),
    ).toEqual([]);
    sb.clearLog();
    expect(sb.run(renderHostScript("pve1", { ...server, containerAddress: "10.10.10.30" }, token)).status).toBe(0);
    expect(sb.calls().filter((c) => /^pvesh (create|delete)/.test(c))).toEqual([
        "pvesh delete /nodes/pve1/firewall/rules/0",
        "pvesh create /nodes/pve1/firewall/rules --type in --action ACCEPT --enable 1 --proto tcp --dport 9100,9221 --source 10.10.10.30 --comment ai-dualstack monitoring: node and pve exporters",
    ]);
});

/** Runs a textfile writer with stand-ins of `tool` on PATH; the file it wrote. */
function runWriter(script: string, stubs: Record<string, string>, out: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-tf-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    for (const [name, body] of Object.entries(stubs))
        fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    const r = spawnSync("bash", [path.join(SCRIPTS, script)], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}`, AIDS_TEXTFILE_DIR: dir },
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    return fs.readFileSync(path.join(dir, out), "utf8");
}

function checkMetrics(text: string): void {
    if (!promtool) return;
    const r = spawnSync(promtool, ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
}

const ZPOOL_STATUS = `  pool: tankpriv
 state: ONLINE
  scan: scrub repaired 0B in 00:10:41 with 3 errors on Sun Nov  9 00:34:42 2025
config:

\tNAME        STATE     READ WRITE CKSUM
\ttankpriv    ONLINE       0     0     2
\t  mirror-0  ONLINE       0     0     2
\t    nvme0   ONLINE       0     0     2
\t    nvme1   ONLINE       0     0     0

errors: No known data errors`;

test("the pool-status textfile: size, allocation, device and scrub errors, last scrub; promtool accepts it", () => {
    const text = runWriter(
        "zpool-textfile.sh",
        {
            zpool: `case "$1" in
  list) printf 'tankpriv\\t1992864825344\\t996432412672\\nrpool\\t1000000000000\\t100000000000\\n' ;;
  status) if [[ "$3" == tankpriv ]]; then cat <<'STATUS'
${ZPOOL_STATUS}
STATUS
          else printf '  pool: rpool\\n state: ONLINE\\nconfig:\\n\\n\\tNAME STATE READ WRITE CKSUM\\n\\trpool ONLINE 0 0 0\\n'; fi ;;
esac`,
        },
        "aidualstack_zfs.prom",
    );
    expect(text).toContain('aidualstack_zfs_pool_size_bytes{pool="tankpriv"} 1992864825344');
    expect(text).toContain('aidualstack_zfs_pool_allocated_bytes{pool="rpool"} 100000000000');
    expect(text).toContain('aidualstack_zfs_pool_device_errors{pool="tankpriv"} 2');
    expect(text).toContain('aidualstack_zfs_pool_scrub_errors{pool="tankpriv"} 3');
    expect(text).toContain('aidualstack_zfs_pool_scrub_errors{pool="rpool"} 0');
    const at = Math.floor(new Date("Sun Nov  9 00:34:42 2025").getTime() / 1000);
    expect(text).toContain(`aidualstack_zfs_pool_last_scrub_timestamp_seconds{pool="tankpriv"} ${at}`);
    checkMetrics(text);
});

test("the Xid textfile counts each code in this boot's kernel log, and reads 0 without one; promtool accepts it", () => {
    const log = [
        "NVRM: Xid (PCI:0000:01:00): 79, pid=1234, GPU has fallen off the bus.",
        "NVRM: Xid (PCI:0000:01:00): 13, Graphics Exception",
        "NVRM: Xid (PCI:0000:01:00): 79, pid=1234, GPU has fallen off the bus.",
        "usb 1-1: new device",
    ].join("\n");
    const text = runWriter("xid-textfile.sh", { journalctl: `cat <<'LOG'\n${log}\nLOG` }, "aidualstack_xid.prom");
    expect(text).toContain(
        'aidualstack_gpu_xid_errors_total{xid="13"} 1\naidualstack_gpu_xid_errors_total{xid="79"} 2\n',
    );
    checkMetrics(text);
    const none = runWriter("xid-textfile.sh", { journalctl: "echo 'nothing here'" }, "aidualstack_xid.prom");
    expect(none).toContain('aidualstack_gpu_xid_errors_total{xid="0"} 0');
    checkMetrics(none);
});

test("the agreed throughput-probe and backup textfile formats pass promtool check metrics", () => {
    checkMetrics(probeTextfile(1_790_000_000));
    checkMetrics(backupTextfile(1_790_000_000));
    expect(execFileSync("bash", [path.join(SCRIPTS, "zpool-textfile.sh"), "--help"], { encoding: "utf8" })).toContain(
        "Usage",
    );
    expect(execFileSync("bash", [path.join(SCRIPTS, "xid-textfile.sh"), "--help"], { encoding: "utf8" })).toContain(
        "Usage",
    );
});
