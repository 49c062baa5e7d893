// The `stacks` project's globalTeardown: this run's plans go with it, so the next run plans afresh.

import * as fs from "fs";
import { PLAN_CACHE_ENV } from "./planCacheSetup";

export default function teardown(): void {
    const dir = process.env[PLAN_CACHE_ENV];
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    delete process.env[PLAN_CACHE_ENV];
}
