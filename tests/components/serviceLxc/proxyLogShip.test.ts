// The node's access-log shipper, run by real bash and perl in a sandbox: a stand-in `qm` answers
// `qm guest exec` with the guest agent's JSON (the proxy's lines JSON-escaped in out-data), a
// stand-in `logger` records what it would send, and a stand-in `sleep` ends the loop after one turn.
// The lines arrive unchanged, tagged traefik, to the security container's syslog port, and the next
// window starts where this one ended.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SHIPPER = path.join(__dirname, "..", "..", "..", "components", "serviceLxc", "scripts", "proxy-log-ship.sh");
const LINES = [
    '203.0.113.66 - - [27/Nov/2026:09:12:20 +0000] "GET /.env HTTP/1.1" 404 19 "-" "Mozilla/5.0 (compatible; scanner)" 1021 "-" "-" 0ms',
    '198.51.100.7 - - [27/Nov/2026:09:12:21 +0000] "GET /a\\b HTTP/1.1" 200 2310 "-" "curl/8.5" 1022 "webui@file" "http://open-webui:8080" 7ms',
];

function sandbox() {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-ship-"));
    const bin = path.join(root, "bin");
    fs.mkdirSync(bin);
    const agentJson = JSON.stringify({ exitcode: 0, exited: 1, "out-data": `${LINES.join("\n")}\n` });
    fs.writeFileSync(path.join(root, "agent.json"), agentJson);
    const stubs: Record<string, string> = {
        qm: `echo "qm $*" >>"${root}/qm.calls"; cat "${root}/agent.json"`,
        logger: `echo "logger $*" >>"${root}/logger.calls"; cat >>"${root}/sent"`,
        sleep: "exit 1",
    };
    for (const [name, body] of Object.entries(stubs)) {
        fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    }
    return { root, env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}` } };
}

test("one turn: the proxy's new lines go out unchanged as syslog, and the window moves on", () => {
    const { root, env } = sandbox();
    const state = path.join(root, "since");
    fs.writeFileSync(state, "1700000000\n");
    const run = spawnSync("bash", [SHIPPER, "210", "proxy", "10.10.10.22", "5140", state], { env, encoding: "utf8" });
    // The stand-in sleep ends the loop: the turn itself went through.
    expect(run.status).toBe(1);
    const qm = fs.readFileSync(path.join(root, "qm.calls"), "utf8").trim();
    expect(qm).toMatch(/^qm guest exec 210 --timeout 30 -- docker logs --since 1700000000 --until (\d+) proxy$/);
    const until = /--until (\d+)/.exec(qm)?.[1];
    expect(fs.readFileSync(path.join(root, "logger.calls"), "utf8").trim()).toBe(
        "logger --rfc3164 -n 10.10.10.22 -P 5140 -d -t traefik",
    );
    expect(fs.readFileSync(path.join(root, "sent"), "utf8")).toBe(`${LINES.join("\n")}\n`);
    expect(fs.readFileSync(state, "utf8").trim()).toBe(until);
});

test("--help says what it does; missing arguments are a usage error", () => {
    const help = spawnSync("bash", [SHIPPER, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: proxy-log-ship.sh VMID CONTAINER DEST PORT");
    const bad = spawnSync("bash", [SHIPPER, "210"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("Usage:");
});
