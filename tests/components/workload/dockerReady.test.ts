// The first contact with a GPU VM, run by real bash against stand-ins of the guest's tools: it waits
// for cloud-init, asks Docker through sudo (this session may predate the docker group), and checks
// the GPU and the NVIDIA runtime. The script is checked by shellcheck too.

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderDockerReadyScript } from "../../../components/workload/dockerReady";
import { validator } from "../../helpers/sandbox";

/** A guest whose tools are stand-ins that log their calls; `runtimes` is what Docker reports. */
function guest(runtimes: string, groups = "ubuntu sudo docker") {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "aids-guest-"));
    const log = path.join(bin, "calls.log");
    const tools: Record<string, string> = {
        "cloud-init": "exit 0",
        sudo: '[ "$1" = -n ] && shift; exec "$@"',
        docker: `case "$*" in *Runtimes*) echo '${runtimes}';; *) echo 'ai-dualstack: docker 27.5.1';; esac`,
        "nvidia-smi": "echo 'NVIDIA GeForce RTX 5090, 570.153.02'",
        id: `echo '${groups}'`,
        getent: "exit 2",
    };
    for (const [tool, body] of Object.entries(tools)) {
        fs.writeFileSync(path.join(bin, tool), `#!/usr/bin/env bash\necho "${tool} $*" >> "${log}"\n${body}\n`, {
            mode: 0o755,
        });
    }
    const run = (script: string) =>
        spawnSync("bash", ["-s"], {
            input: script,
            encoding: "utf8",
            env: { PATH: `${bin}:/usr/bin:/bin`, USER: "ubuntu" },
        });
    return { run, calls: () => fs.readFileSync(log, "utf8").trim().split("\n") };
}

test("a ready GPU VM passes: cloud-init first, then Docker through sudo, the GPU and its runtime", () => {
    const g = guest('{"nvidia":{},"runc":{}}');
    const result = g.run(renderDockerReadyScript(true));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("ai-dualstack: docker 27.5.1");
    const calls = g.calls();
    expect(calls[0]).toBe("cloud-init status --wait");
    expect(calls).toContain("sudo -n docker info --format ai-dualstack: docker {{.ServerVersion}}");
});

test("a missing NVIDIA runtime and a user outside the docker group each fail with their message", () => {
    const noRuntime = guest('{"runc":{}}').run(renderDockerReadyScript(true));
    expect(noRuntime.status).toBe(1);
    expect(noRuntime.stderr).toContain("ai-dualstack: the nvidia container runtime is missing");
    const noGroup = guest('{"runc":{}}', "ubuntu sudo").run(renderDockerReadyScript(false));
    expect(noGroup.status).toBe(1);
    expect(noGroup.stderr).toContain("ai-dualstack: ubuntu is not in the docker group");
});

const shellcheck = validator("shellcheck");
(shellcheck ? test : test.skip)("shellcheck accepts both variants", () => {
    for (const gpu of [true, false]) {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aids-ready-")), "ready.sh");
        fs.writeFileSync(file, `#!/usr/bin/env bash\n${renderDockerReadyScript(gpu)}`);
        expect(() => execFileSync(shellcheck as string, [file], { encoding: "utf8" })).not.toThrow();
    }
});
