// Where booted systems live while they run (one folder per system: its overlay, keys and owner), and the sweep
// that stops and removes those of test processes that died before their afterAll ran (system.ts calls it before
// each boot).

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { alive } from "./lab";

export const RUN_DIR = "/var/tmp/ai-dualstack-booted";

/** Stops and removes the systems of test processes that died (killed before their afterAll ran). */
export function sweepSystems(): void {
    if (!fs.existsSync(RUN_DIR)) return;
    for (const machine of fs.readdirSync(RUN_DIR)) {
        const dir = path.join(RUN_DIR, machine);
        const read = (f: string) => Number(fs.readFileSync(path.join(dir, f), "utf8") || "0");
        // A system another test process is still creating has no owner file yet (it is renamed into place whole):
        // left alone unless it is older than any boot takes.
        const owner = fs.existsSync(path.join(dir, "owner")) ? read("owner") : 0;
        if (owner === 0 && Date.now() - fs.statSync(dir).mtimeMs < 10 * 60_000) continue;
        if (owner > 0 && alive(owner)) continue;
        const pid = fs.existsSync(path.join(dir, "nspawn.pid")) ? read("nspawn.pid") : 0;
        if (pid > 0 && alive(pid)) process.kill(pid, "SIGKILL");
        try {
            execFileSync("umount", ["-l", path.join(dir, "root")], { stdio: "ignore" });
        } catch {
            // not mounted
        }
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
