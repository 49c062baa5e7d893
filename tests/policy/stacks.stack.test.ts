// Both real stacks, run in the mock runtime, through the whole pack; and the offline adapter itself.

import * as docker from "@pulumi/docker";
import * as fs from "fs";
import * as path from "path";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { policies } from "../../policy/policies";
import type { RecordedResource } from "../../testing/mockRuntime";
import { committedPlan } from "../helpers/planCache";
import { levelOf, resourceArgs, runPolicies } from "../../testing/policyRun";
import { rec, T } from "./fixtures";

describe.each(["private", "public"])("the %s stack through the whole pack", (stack) => {
    let resources: RecordedResource[];
    beforeAll(async () => {
        resources = (await committedPlan(stack)).resources;
    });

    test("the shipped stack passes the whole pack, advisory policies included", async () => {
        const found = await runPolicies(policies, resources);
        // Every service has a memory limit now (the last known gap): a shipped config that fails its own pack teaches
        // users to ignore it.
        expect(found).toEqual([]);
    });

    test("every registered resource passes through the pack's validate functions", async () => {
        const seen = new Set<string>();
        const counting = policies.map((p) =>
            "validateStack" in p
                ? p
                : {
                      ...p,
                      validateResource: [p.validateResource ?? []]
                          .flat()
                          .map((v) => (args: Parameters<typeof v>[0], report: Parameters<typeof v>[1]) => {
                              seen.add(args.urn);
                              return v(args, report);
                          }),
                  },
        );
        await runPolicies(counting, resources);
        expect(resources.filter((r) => !seen.has(r.urn)).map((r) => r.urn)).toEqual([]);
    });

    test("each policy that checks a class finds resources of it in the stacks", () => {
        const typeOf = (cls: { isInstance(o: unknown): boolean }) =>
            resources.filter((r) => resourceArgs(r).isType(cls as never)).length;
        expect(typeOf(proxmoxve.VmLegacy)).toBe(1);
        expect(typeOf(proxmoxve.firewall.OptionsLegacy)).toBeGreaterThan(0);
        expect(typeOf(docker.Container)).toBeGreaterThan(0);
        expect(typeOf(docker.RemoteImage)).toBe(typeOf(docker.Container));
    });
});

describe("the offline adapter", () => {
    test("args mirror the engine's: type checks by class, protect, asType", () => {
        const args = resourceArgs(rec(T.vm, "vm", { vmId: 1 }, true));
        expect(args.isType(proxmoxve.VmLegacy)).toBe(true);
        expect(args.isType(proxmoxve.ContainerLegacy)).toBe(false);
        expect(args.asType(proxmoxve.VmLegacy)).toEqual({ vmId: 1 });
        expect(args.asType(proxmoxve.ContainerLegacy)).toBeUndefined();
        expect(args.opts.protect).toBe(true);
        expect(() => args.notApplicable("no")).toThrow("no");
    });

    test("an advisory policy may be waived; a mandatory one may not", () => {
        const advisory = { name: "backups-scheduled", enforcementLevel: "advisory" as const };
        const mandatory = { name: "lxc-unprivileged", enforcementLevel: "mandatory" as const };
        expect(levelOf(advisory, { "backups-scheduled": { enforcementLevel: "disabled" } })).toBe("disabled");
        expect(levelOf(advisory, { "backups-scheduled": "disabled" })).toBe("disabled");
        expect(() => levelOf(mandatory, { "lxc-unprivileged": "disabled" })).toThrow(
            "lxc-unprivileged: a mandatory policy cannot be waived; fix the violation instead",
        );
    });

    test("a waived advisory policy reports nothing", async () => {
        const found = await runPolicies(
            policies,
            [rec(T.container, "c", { name: "c", image: "a:1", healthcheck: { tests: ["CMD", "true"] } })],
            {
                "container-memory-limit": { enforcementLevel: "disabled" },
            },
        );
        expect(found).toEqual([]);
    });

    test("every policy has a kebab-case name, one sentence, a level and a fix", () => {
        for (const p of policies) {
            expect(p.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
            expect(p.description).toMatch(/^[A-Z][^]*\.$/);
            expect(["advisory", "mandatory"]).toContain(p.enforcementLevel);
            expect(p.remediationSteps).toBeTruthy();
        }
        expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
    });

    test("every policy is in docs/policy.md's table, with its level; no row names a policy the pack lacks", () => {
        const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "policy.md"), "utf8");
        const rows = doc
            .split("\n")
            .map((l) => /^\| `([a-z0-9-]+)` +\| [a-z]+ +\| (mandatory|advisory) +\|/.exec(l))
            .flatMap((m) => (m ? [`${m[1]} ${m[2]}`] : []));
        expect(rows.sort()).toEqual(policies.map((p) => `${p.name} ${p.enforcementLevel}`).sort());
    });
});
