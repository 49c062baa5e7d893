// Both stacks' registrations, inputs included, against a committed snapshot: a refactor that changes
// what `pulumi up` would register fails here. After a deliberate change, review the diff and run
// `npx jest tests/stacks/planSnapshot.test.ts -u`.

import { runStack } from "../helpers/pulumi";

/**
 * One input changes without any change of what is deployed, and is asserted elsewhere: the
 * serialized code of the gate's dynamic provider (tests/providers/modelThroughput.test.ts runs it).
 */
function stable(inputs: Record<string, unknown>): Record<string, unknown> {
    const out = { ...inputs };
    if (typeof out["__provider"] === "string") out["__provider"] = "<serialized dynamic provider>";
    return out;
}

for (const stack of ["private", "public"]) {
    test(`the ${stack} stack registers exactly the snapshot's resources, inputs and outputs`, async () => {
        const planned = await runStack(stack);
        const resources = planned.resources.map((r) => ({
            type: r.type,
            name: r.name,
            custom: r.custom,
            parent: r.parent,
            provider: r.provider,
            dependencies: [...new Set(r.dependencies)].sort(),
            protect: r.protect,
            secretInputs: [...r.secretInputs].sort(),
            inputs: stable(r.inputs),
        }));
        // Registration order follows the runtime's async resolution; identity does not.
        resources.sort((a, b) => `${a.type}::${a.name}`.localeCompare(`${b.type}::${b.name}`));
        expect(resources.length).toBeGreaterThan(40);
        expect({ resources, outputs: planned.outputs }).toMatchSnapshot();
    });
}
