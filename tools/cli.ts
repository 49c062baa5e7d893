// What the command-line tools share: a usage error, and the handling of --help and bad arguments.

/** Bad arguments: the tool prints the message and its usage, and exits 2. */
export class UsageError extends Error {}

/**
 * Runs a tool's argument parser: the options, or the exit code when there is nothing to run
 * (0 after --help, 2 after a usage error, each with the usage printed).
 */
export function parseCli<T>(tool: string, usage: string, parse: () => T | "help"): T | number {
    let opts: T | "help";
    try {
        opts = parse();
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        console.error(`${tool}: ${err.message}\n\n${usage}`);
        return 2;
    }
    if (opts === "help") {
        console.log(usage);
        return 0;
    }
    return opts;
}
