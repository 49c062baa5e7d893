// Where the real Pulumi engine is for the e2e suites: the CLI with the Node.js language host beside it, and the
// resource plugins in a PULUMI_HOME, as .ci/pulumi-toolchain.sh builds and installs them (or a user's own install).

import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const PULUMI_VERSION = "v3.248.0";
/**
 * The plugins the e2e suites run, under the versions the npm SDKs ask for, as .ci/pulumi-toolchain.sh installs them
 * (proxmoxve is an 8.3.0 build installed as 8.6.0: the engine warns that it "has 8.3.0").
 */
const PLUGINS = ["resource-command-v1.2.1", "resource-proxmoxve-v8.6.0"];

export interface Toolchain {
    /** The pulumi CLI; its folder also holds the Node.js language host and the bundled Node.js plugins. */
    bin: string;
    /** The plugin cache to run with (PULUMI_HOME); undefined: the environment's. */
    pulumiHome?: string;
}

function cacheDir(): string {
    return process.env["AIDS_CACHE"] ?? path.join(os.homedir(), ".cache", "ai-dualstack");
}

/** The folder holding `pulumi` on PATH, if any. */
function pulumiOnPath(): string | undefined {
    const dirs = (process.env["PATH"] ?? "").split(path.delimiter).filter((d) => d !== "");
    return dirs.find((d) => fs.existsSync(path.join(d, "pulumi")));
}

/**
 * Where the CLI (with the language host beside it) and the plugins are, or what is missing. The bin folder:
 * $AIDS_PULUMI_TOOLCHAIN, else the cache's, else pulumi's on PATH; the plugins: $AIDS_PULUMI_HOME, else the cache's,
 * else the user's own PULUMI_HOME.
 */
export function findToolchain(): { toolchain?: Toolchain; missing?: string } {
    const cached = path.join(cacheDir(), `pulumi-toolchain-${PULUMI_VERSION}`, "bin");
    const dir = process.env["AIDS_PULUMI_TOOLCHAIN"] ?? (fs.existsSync(cached) ? cached : pulumiOnPath());
    const bin = dir === undefined ? undefined : path.join(dir, "pulumi");
    if (bin === undefined || !fs.existsSync(bin)) return { missing: "no pulumi CLI" };
    if (!fs.existsSync(path.join(path.dirname(bin), "pulumi-language-nodejs"))) {
        return { missing: `no pulumi-language-nodejs beside ${bin}` };
    }
    const ownHome = path.join(cacheDir(), "pulumi-home");
    const home =
        process.env["AIDS_PULUMI_HOME"] ??
        (fs.existsSync(ownHome) ? ownHome : (process.env["PULUMI_HOME"] ?? path.join(os.homedir(), ".pulumi")));
    const installed = fs.existsSync(path.join(home, "plugins")) ? fs.readdirSync(path.join(home, "plugins")) : [];
    const absent = PLUGINS.filter((p) => !installed.includes(p));
    if (absent.length > 0) return { missing: `no plugin ${absent.join(", ")} in ${home}/plugins` };
    return { toolchain: { bin, pulumiHome: home } };
}

/**
 * The toolchain the e2e suites need. Under CI a missing one fails the run; on a workstation the suites are
 * skipped, loudly (as tests/helpers/sandbox.ts does for validators).
 */
export function engineToolchain(): Toolchain | undefined {
    const { toolchain, missing } = findToolchain();
    if (toolchain) return toolchain;
    const how = "`bash .ci/pulumi-toolchain.sh` builds it (.ci/run does; see docs/testing.md)";
    if (process.env["CI"]) throw new Error(`the real Pulumi engine is not available (${missing}); ${how}`);
    // Straight to stderr: jest drops the console output of a suite whose tests are all skipped.
    process.stderr.write(`\n*** E2E SKIPPED: the real Pulumi engine is not available (${missing}); ${how} ***\n\n`);
    return undefined;
}
