// The committed stack files as the program sees them: raw values, parsed and checked, or resolved.

import { decodeValue, formatIssues, parseStackConfig, ParseResult, RawConfig } from "../../config/load";
import { resolveStack, StackModel } from "../../config/resolve";
import { EnvironmentName, ParsedConfig } from "../../config/schema";
import { POLICIES } from "../../stacks";
import { readStackConfig } from "../../testing/stackFiles";

const bare = (key: string) => key.replace(/^ai-dualstack:/, "");

/** The merged config of a stack file, decoded, with an optional edit and secret-key set. */
export function rawConfig(
    stack: string,
    edit: (values: Record<string, unknown>) => void = () => {},
    secretKeys?: string[],
): RawConfig {
    const files = readStackConfig(stack);
    const values: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(files.config)) {
        values[bare(key)] = decodeValue(bare(key), text);
    }
    edit(values);
    return { stack, values, secretKeys: new Set((secretKeys ?? files.secretKeys).map(bare)) };
}

/** The committed stack's config, parsed and checked, with the peer stacks its monitoring server scrapes. */
export function parsedStack(stack: EnvironmentName): Extract<ParseResult, { ok: true }> {
    const result = parseStackConfig(rawConfig(stack), POLICIES);
    if (!result.ok) throw new Error(formatIssues(stack, result.issues));
    return result;
}

export function parsedConfig(stack: EnvironmentName): ParsedConfig & { environment: EnvironmentName } {
    return parsedStack(stack).config;
}

/** The committed stack's resolved model, as the program builds from it. */
export function stackModel(stack: EnvironmentName): StackModel {
    const { config, peers } = parsedStack(stack);
    return resolveStack(config, stack, POLICIES[stack], peers);
}
