// Bash scripts shipped beside the components: loading them, quoting values for them, and rendering
// one with its variables in a header, as the host bootstrap and the data setups do.

import * as fs from "fs";
import * as path from "path";

/** Reads a script that ships in a component's `scripts/` folder. */
export function loadScript(dir: string, file: string): string {
    return fs.readFileSync(path.join(dir, "scripts", file), "utf8");
}

/** Single-quotes a value for bash. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A script with a comment line, `NAME='value'` lines (and raw lines such as a `declare -A`) above
 * its body.
 */
export function renderScript(
    comment: string,
    vars: Readonly<Record<string, string>>,
    body: string,
    raw: readonly string[] = [],
): string {
    return [
        "#!/usr/bin/env bash",
        `# ${comment}`,
        ...Object.entries(vars).map(([k, v]) => `${k}=${shellQuote(v)}`),
        ...raw,
        "",
        body,
    ].join("\n");
}

/** A command line that runs a script without depending on the transport's stdin. */
export function inlineScript(script: string): string {
    return `printf %s ${Buffer.from(script, "utf8").toString("base64")} | base64 -d | bash`;
}

/** pkg_floor NAME FLOOR: a Debian package from the system's own suite, at least FLOOR, never held. */
export const PKG_FLOOR = loadScript(__dirname, "pkg-floor.sh");
