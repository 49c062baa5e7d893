// CrowdSec for real (Debian's crowdsec, started on 127.0.0.1 by the test): the container's rendered
// acquisition, ban profile and local-API override, the hub items the setup script links, and no
// Central API. A recorded Traefik access log goes in the way the node's shipper sends it (`logger`,
// syslog over UDP); the scanner in it is banned for the configured time, the ordinary visitor is not,
// and the node's bouncer, with its registered key, reads the ban from the local API.

import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import {
    BOUNCER_NAME,
    CROWDSEC_ITEMS,
    crowdsecAcquis,
    crowdsecLocalConfig,
    crowdsecProfiles,
} from "../../../components/serviceLxc/crowdsec";
import { renderCrowdsecScript, renderSecurityHostScript } from "../../../components/serviceLxc/security";
import { LxcConfig } from "../../../config/schema";
import { parsedConfig } from "../../helpers/config";
import { shellcheckScripts, validator } from "../../helpers/sandbox";

const HUB = "/usr/share/crowdsec/hub";
const DATA = "/usr/share/crowdsec/data";
const PATTERNS = "/etc/crowdsec/patterns";
const ATTACK_LOG = path.join(__dirname, "..", "..", "fixtures", "security", "traefik-attack.log");
const SCANNER = "203.0.113.66";
const VISITOR = "198.51.100.7";
const BOUNCER_KEY = "0123456789abcdef0123456789abcdef";

const cfg = parsedConfig("private");
const security = cfg.containers["private-security"] as LxcConfig;
const cs = security.crowdsec as NonNullable<LxcConfig["crowdsec"]>;
const crowdsec = validator("crowdsec");
const cscli = validator("cscli");
const logger = validator("logger");
const shellcheck = validator("shellcheck");
const sqlite3 = validator("sqlite3");
const BOUNCER_SCRIPT = path.join(
    __dirname,
    "..",
    "..",
    "..",
    "components",
    "serviceLxc",
    "scripts",
    "crowdsec-bouncer.sh",
);

async function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const srv = net.createServer().listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

/** A config folder like the container's /etc/crowdsec after the setup script, on loopback ports. */
function configDir(lapiPort: number, syslogPort: number): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-crowdsec-"));
    const etc = path.join(root, "etc");
    const data = path.join(root, "data");
    fs.mkdirSync(path.join(etc, "acquis.d"), { recursive: true });
    fs.cpSync(DATA, data, { recursive: true });
    // The grok patterns: the package installs them into /etc/crowdsec.
    fs.cpSync(PATTERNS, path.join(etc, "patterns"), { recursive: true });
    // As crowdsec-setup.sh links them: <kind>/<stage>/<name>.yaml, the vendor folder dropped.
    for (const item of CROWDSEC_ITEMS) {
        const link = path.join(etc, path.dirname(path.dirname(item)), path.basename(item));
        fs.mkdirSync(path.dirname(link), { recursive: true });
        fs.symlinkSync(path.join(HUB, item), link);
    }
    fs.writeFileSync(path.join(etc, "acquis.d", "ai-dualstack-proxy.yaml"), crowdsecAcquis("127.0.0.1", syslogPort));
    fs.writeFileSync(path.join(etc, "profiles.yaml"), crowdsecProfiles(cs));
    fs.writeFileSync(path.join(etc, "online_api_credentials.yaml"), "# ai-dualstack: no Central API\n");
    fs.writeFileSync(path.join(etc, "simulation.yaml"), "simulation: false\n");
    fs.writeFileSync(path.join(etc, "local_api_credentials.yaml"), "");
    const config = path.join(etc, "config.yaml");
    fs.writeFileSync(
        config,
        stringify({
            common: { daemonize: false, log_media: "file", log_dir: root, log_level: "info" },
            config_paths: {
                config_dir: etc,
                data_dir: data,
                simulation_path: path.join(etc, "simulation.yaml"),
                hub_dir: HUB,
                index_path: path.join(HUB, ".index.json"),
            },
            crowdsec_service: { acquisition_dir: path.join(etc, "acquis.d"), parser_routines: 1 },
            db_config: { type: "sqlite", db_path: path.join(data, "crowdsec.db"), use_wal: true },
            api: {
                client: { credentials_path: path.join(etc, "local_api_credentials.yaml") },
                server: {
                    listen_uri: "127.0.0.1:8080",
                    profiles_path: path.join(etc, "profiles.yaml"),
                    online_client: { credentials_path: path.join(etc, "online_api_credentials.yaml") },
                },
            },
            prometheus: { enabled: false },
        }),
    );
    // The container's override, as crowdsec-setup.sh writes it; crowdsec reads <config>.local on top.
    fs.writeFileSync(`${config}.local`, crowdsecLocalConfig("127.0.0.1", lapiPort));
    return config;
}

interface Decision {
    value: string;
    type: string;
    duration: string;
    scenario: string;
}

function decisions(config: string): Decision[] {
    const out = execFileSync(cscli as string, ["-c", config, "decisions", "list", "-o", "json"], { encoding: "utf8" });
    const alerts = (JSON.parse(out) ?? []) as { decisions?: Decision[] }[];
    return alerts.flatMap((a) => a.decisions ?? []);
}

/**
 * The setup's register_bouncer (crowdsec-bouncer.sh), run by bash against the real cscli and sqlite3
 * on this config, each behind a stand-in that records its arguments (what `ps` would show) first.
 */
function registerBouncer(config: string): { status: number | null; stderr: string; argv: () => string } {
    const dir = path.dirname(config);
    const bin = path.join(dir, "bin");
    const argv = path.join(dir, "argv.log");
    fs.mkdirSync(bin, { recursive: true });
    for (const [tool, real] of [
        ["cscli", `${cscli as string} -c ${config}`],
        ["sqlite3", sqlite3 as string],
    ])
        fs.writeFileSync(
            path.join(bin, tool as string),
            `#!/usr/bin/env bash\necho "${tool} $*" >>"${argv}"\nexec ${real} "$@"\n`,
            { mode: 0o755 },
        );
    const script = `set -euo pipefail\n${fs.readFileSync(BOUNCER_SCRIPT, "utf8")}\nregister_bouncer "${dir}/bouncer.sha256"\n`;
    const run = () =>
        spawnSync("bash", ["-s"], {
            input: script,
            encoding: "utf8",
            env: {
                ...process.env,
                PATH: `${bin}:${process.env["PATH"] ?? ""}`,
                AIDS_CS_BOUNCER: BOUNCER_NAME,
                AIDS_CS_BOUNCER_KEY: BOUNCER_KEY,
            },
        });
    const first = run();
    // A second run finds the key registered (its stamp) and calls nothing.
    const before = fs.readFileSync(argv, "utf8");
    const second = run();
    if (second.status !== 0 || fs.readFileSync(argv, "utf8") !== before)
        throw new Error(`register_bouncer did something again: ${second.stderr}`);
    return { status: first.status, stderr: first.stderr, argv: () => fs.readFileSync(argv, "utf8") };
}

const ready = crowdsec && cscli && logger && sqlite3;
(ready ? describe : describe.skip)("CrowdSec on the recorded Traefik attack log", () => {
    let daemon: ChildProcess | undefined;
    let config = "";
    let lapiPort = 0;
    let log = "";
    let registration: ReturnType<typeof registerBouncer> | undefined;

    beforeAll(async () => {
        lapiPort = await freePort();
        const syslogPort = await freePort();
        config = configDir(lapiPort, syslogPort);
        const cli = (...args: string[]) => execFileSync(cscli as string, ["-c", config, ...args], { encoding: "utf8" });
        cli("machines", "add", "-a", "-f", path.join(path.dirname(config), "local_api_credentials.yaml"));
        registration = registerBouncer(config);
        expect(registration.stderr).toBe("");
        expect(registration.status).toBe(0);
        daemon = spawn(crowdsec as string, ["-c", config], { stdio: "ignore" });
        log = path.join(path.dirname(path.dirname(config)), "crowdsec.log");
        // The syslog listener is up once the agent starts processing.
        const deadline = Date.now() + 45_000;
        while (!(fs.existsSync(log) && fs.readFileSync(log, "utf8").includes("Starting processing data"))) {
            if (Date.now() > deadline)
                throw new Error(`crowdsec did not start:\n${fs.existsSync(log) ? fs.readFileSync(log, "utf8") : ""}`);
            await new Promise((r) => setTimeout(r, 250));
        }
        await new Promise((r) => setTimeout(r, 1000));
        // What the node's shipper does with each batch of the proxy's log lines.
        execFileSync(
            logger as string,
            ["--rfc3164", "-n", "127.0.0.1", "-P", String(syslogPort), "-d", "-t", "traefik"],
            {
                input: fs.readFileSync(ATTACK_LOG),
            },
        );
        const until = Date.now() + 30_000;
        while (!decisions(config).some((d) => d.value === SCANNER) && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 500));
        }
    }, 90_000);

    afterAll(() => {
        daemon?.kill("SIGTERM");
    });

    test("the scanner is banned for the configured time by an HTTP scenario; the visitor is not", () => {
        const all = decisions(config);
        const ban = all.find((d) => d.value === SCANNER);
        expect(ban?.type).toBe("ban");
        expect(ban?.scenario).toMatch(/^crowdsecurity\/http-/);
        // "4h" configured: what is left reads 3h59m… a moment later.
        expect(ban?.duration).toMatch(/^3h5\d?m/);
        expect(all.filter((d) => d.value === VISITOR)).toEqual([]);
        expect(fs.readFileSync(log, "utf8")).toContain("Central API disabled");
    });

    test("the bouncer's key is registered without ever being a command's argument", () => {
        const argv = registration?.argv() ?? "";
        expect(argv).toContain(`cscli --error bouncers add ${BOUNCER_NAME} -o raw`);
        expect(argv).toContain("sqlite3 ");
        // cscli would show it to `ps` with `-k` (crowdsec cmd/crowdsec-cli/bouncers.go); it never gets it.
        expect(argv).not.toContain(BOUNCER_KEY);
    });

    test("the node's bouncer, with its key, reads the ban from the local API", async () => {
        const res = await fetch(`http://127.0.0.1:${lapiPort}/v1/decisions/stream?startup=true`, {
            headers: { "X-Api-Key": BOUNCER_KEY },
        });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { new: { value: string; type: string }[] | null };
        expect(body.new?.map((d) => [d.value, d.type])).toEqual([[SCANNER, "ban"]]);
        const refused = await fetch(`http://127.0.0.1:${lapiPort}/v1/decisions/stream?startup=true`, {
            headers: { "X-Api-Key": "not-the-key" },
        });
        expect(refused.status).toBe(403);
    });
});

(shellcheck ? test : test.skip)("shellcheck finds nothing in the rendered CrowdSec, node and shipper scripts", () => {
    expect(() =>
        shellcheckScripts(shellcheck as string, {
            "crowdsec.sh": renderCrowdsecScript(cs, "10.10.10.22", BOUNCER_KEY),
            "node.sh": renderSecurityHostScript(security, "10.10.10.22", BOUNCER_KEY),
            "ship.sh": fs.readFileSync(
                path.join(__dirname, "..", "..", "..", "components", "serviceLxc", "scripts", "proxy-log-ship.sh"),
                "utf8",
            ),
        }),
    ).not.toThrow();
});

test("the agent's own credentials are pointed where config.yaml.local moves the local API", () => {
    // Debian's postinst writes the agent's credentials for 127.0.0.1:8080; an agent whose url the API no
    // longer listens on exits at every start (found by tests/systems/security.systems.test.ts).
    const script = renderCrowdsecScript(cs, "10.10.10.22", BOUNCER_KEY);
    const inputs = execFileSync(
        "bash",
        ["-c", `${script.split("\nset -euo")[0] ?? ""}\nprintf '%s\\n---\\n%s' "$AIDS_CS_LAPI_URL" "$AIDS_CS_LOCAL"`],
        { encoding: "utf8" },
    );
    const [url, local] = inputs.split("\n---\n") as [string, string];
    const listen = (parse(local) as { api: { server: { listen_uri: string } } }).api.server.listen_uri;
    expect(listen).toBe("10.10.10.22:8080");
    expect(url).toBe(`http://${listen}`);
});
