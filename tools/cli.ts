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

/** `--format X` or `--format=X`, one of `allowed`: the value, and how many more arguments it took. */
export function formatArg<T extends string>(
    arg: string,
    next: string | undefined,
    allowed: readonly T[],
): { value: T; used: number } {
    const inline = arg.includes("=");
    const value = inline ? arg.split("=")[1] : next;
    if (!allowed.some((a) => a === value)) {
        throw new UsageError(`--format takes ${allowed.map((a) => `"${a}"`).join(" or ")}, not "${value ?? ""}"`);
    }
    return { value: value as T, used: inline ? 0 : 1 };
}

/** A bare argument names a stack; anything else starting with "-" is an unknown option. */
export function stackArg(arg: string, stacks: string[]): void {
    if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    stacks.push(arg);
}

/** The stacks named, at least one. */
export function requireStacks(stacks: string[]): string[] {
    if (stacks.length === 0) throw new UsageError("name a stack: private or public");
    return stacks;
}

/** Runs a tool's main as the process: its exit code, or 1 with the error after an unexpected one. */
export function runMain(main: (argv: readonly string[]) => Promise<number>): void {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err: unknown) => {
            console.error(err instanceof Error ? (err.stack ?? err.message) : err);
            process.exit(1);
        },
    );
}
