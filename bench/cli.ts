// What the benches share as programs: main's exit code becomes the process's, set (not exited) so
// that the servers and folders a bench started are cleaned up in its own `finally` first.

/** Runs a bench's main as the process: its exit code, or `errorCode` with the message after an unexpected error. */
export function runBench(main: (argv: string[]) => Promise<number>, errorCode: number): void {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (err: unknown) => {
            console.error(err instanceof Error ? err.message : err);
            process.exitCode = errorCode;
        },
    );
}
