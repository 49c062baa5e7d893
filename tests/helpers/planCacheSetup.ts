// The `stacks` project's globalSetup: a fresh folder for this run's plans (tests/helpers/planCache.ts),
// named to the test workers through the environment, which they inherit.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The environment variable naming this run's cache folder (kept here: this file loads no Pulumi). */
export const PLAN_CACHE_ENV = "AIDS_PLAN_CACHE";

export default function setup(): void {
    process.env[PLAN_CACHE_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), "aids-plan-cache-"));
}
