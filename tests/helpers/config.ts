// The committed stack files as the program sees them: raw values, or parsed and checked.

import { decodeValue, formatIssues, parseStackConfig, RawConfig } from "../../config/load";
import { EnvironmentName, ParsedConfig } from "../../config/schema";
import { readStackConfig } from "../../tools/stackFiles";

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

export function parsedConfig(stack: EnvironmentName): ParsedConfig & { environment: EnvironmentName } {
    const result = parseStackConfig(rawConfig(stack));
    if (!result.ok) throw new Error(formatIssues(stack, result.issues));
    return result.config;
}
