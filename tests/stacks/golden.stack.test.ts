// Both stacks' registrations against a committed, readable golden file per stack
// (tests/stacks/golden/<stack>.txt): the offline plan's own text, a table of the inputs that matter,
// and a hash per resource of its whole registration (inputs, parent, provider, dependencies,
// protect, secret input names). A refactor that changes what `pulumi up` would register fails here,
// and the diff names the resource. After a deliberate change, regenerate both files, review the diff
// and commit it:
//
//     UPDATE_GOLDEN=1 npx jest tests/stacks/golden.stack.test.ts

import * as fs from "fs";
import * as path from "path";
import { renderGolden } from "../helpers/golden";
import { committedPlan } from "../helpers/planCache";
import { PLAN_CACHE_ENV } from "../helpers/planCacheSetup";

const REGENERATE = "UPDATE_GOLDEN=1 npx jest tests/stacks/golden.stack.test.ts";
const requested = process.env["UPDATE_GOLDEN"] === "1";
const underCi = process.env["CI"] === "true";
const update = requested && !underCi;

// CI compares: a CI run that rewrote the files would pass whatever the code registers.
test("UPDATE_GOLDEN is refused under CI", () => {
    expect(requested && underCi).toBe(false);
});

// The stacks project's global set-up gives the run its cache folder; without it every suite plans again.
test("the committed plans are shared through this run's cache folder", () => {
    const dir = process.env[PLAN_CACHE_ENV];
    expect(dir && fs.statSync(dir).isDirectory()).toBe(true);
});

for (const stack of ["private", "public"]) {
    test(`the ${stack} stack registers exactly what tests/stacks/golden/${stack}.txt holds`, async () => {
        const planned = await committedPlan(stack);
        expect(planned.resources.length).toBeGreaterThan(40);
        const actual = renderGolden(planned, REGENERATE);
        const file = path.join(__dirname, "golden", `${stack}.txt`);
        if (update) fs.writeFileSync(file, actual);
        const expected = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "(no golden file)";
        try {
            expect(actual).toBe(expected);
        } catch (err) {
            if (err instanceof Error)
                err.message = `the ${stack} plan differs from ${file}; if intended: ${REGENERATE}\n\n${err.message}`;
            throw err;
        }
    });
}
