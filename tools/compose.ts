// Renders each VM's docker-compose.yml from a stack's config: the artifact for a person who wants
// to read the services or run them by hand. It needs no secret: those go to env files whose keys
// it lists (and, with --out, writes as <service>.env.example).

import * as fs from "fs";
import * as path from "path";
import { envFileName, renderCompose } from "../components/workload/composeFile";
import { secretKeys, workloadSpec } from "../components/workload/spec";
import { ConfigError, decodeValue, parseStackConfig } from "../config/load";
import { resolveStack } from "../config/resolve";
import { POLICIES } from "../stacks";
import { StackFileError, readStackConfig } from "../testing/stackFiles";

const USAGE = `Usage: npm run compose -- <stack> [--out DIR]

Renders the docker-compose.yml of every VM of a stack (private or public) from Pulumi.yaml and
Pulumi.<stack>.yaml: the same services Pulumi deploys one resource each. Without --out it prints
them; with --out it writes DIR/<vm>/docker-compose.yml and, for each service that takes secrets,
DIR/<vm>/<service>.env.example with the keys to fill in (as <service>.env).

Exit status: 0 rendered; 1 the config was rejected; 2 bad usage.`;

export function renderStackCompose(
    stack: string,
): { vm: string; compose: string; envKeys: Record<string, string[]> }[] {
    const files = readStackConfig(stack);
    const values: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(files.config)) {
        const bare = key.replace(/^ai-dualstack:/, "");
        values[bare] = decodeValue(bare, text);
    }
    const result = parseStackConfig(
        { stack, values, secretKeys: new Set(files.secretKeys.map((k) => k.replace(/^ai-dualstack:/, ""))) },
        POLICIES,
    );
    if (!result.ok) throw new ConfigError(stack, result.issues);
    const model = resolveStack(result.config, stack, POLICIES[result.config.environment], result.peers);
    return model.vms
        .filter((vm) => Object.keys(vm.services).length > 0)
        .map((vm) => {
            // The monitoring host passes the exporters' trusted-only routes (docs/monitoring.md).
            const metrics = result.config.monitoring ? [`${result.config.monitoring.address}/32`] : [];
            const spec = workloadSpec(vm, model.environment, model.network.trustedSources, metrics);
            const envKeys = Object.fromEntries(
                Object.entries(vm.services)
                    .map(([svc, s]) => [svc, secretKeys(s)] as const)
                    .filter(([, keys]) => keys.length > 0),
            );
            return { vm: vm.name, compose: renderCompose(spec), envKeys };
        });
}

export function main(argv: readonly string[]): number {
    if (argv.includes("-h") || argv.includes("--help")) {
        console.log(USAGE);
        return 0;
    }
    const outIdx = argv.indexOf("--out");
    const out = outIdx >= 0 ? argv[outIdx + 1] : undefined;
    const stacks = argv.filter((a, i) => !a.startsWith("-") && (outIdx < 0 || i !== outIdx + 1));
    if (stacks.length !== 1 || (outIdx >= 0 && !out)) {
        console.error(`compose: name one stack${outIdx >= 0 ? " and a directory after --out" : ""}\n\n${USAGE}`);
        return 2;
    }
    let rendered;
    try {
        rendered = renderStackCompose(stacks[0] as string);
    } catch (err) {
        if (!(err instanceof ConfigError || err instanceof StackFileError)) throw err;
        console.error(err.message);
        return 1;
    }
    for (const { vm, compose, envKeys } of rendered) {
        if (!out) {
            console.log(`# ---- ${vm}/docker-compose.yml\n${compose}`);
            continue;
        }
        const dir = path.join(out, vm);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "docker-compose.yml"), compose);
        for (const [svc, keys] of Object.entries(envKeys)) {
            fs.writeFileSync(path.join(dir, `${envFileName(svc)}.example`), keys.map((k) => `${k}=`).join("\n") + "\n");
        }
        console.log(`wrote ${path.join(dir, "docker-compose.yml")} (${Object.keys(envKeys).length} env file examples)`);
    }
    return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
