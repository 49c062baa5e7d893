// setupFilesAfterEnv of the `unit` project (jest.config.js): planning a whole stack there is an
// error that names the fix, so `npm run test:unit` stays fast as tests are added. A suite that runs
// the whole program is named *.stack.test.ts and runs in the `stacks` project.

jest.mock("../../testing/planStack", () => {
    const actual = jest.requireActual<typeof import("../../testing/planStack")>("../../testing/planStack");
    return {
        ...actual,
        planStack: (stack: string) => {
            throw new Error(
                `this suite plans the whole ${stack} stack: name it *.stack.test.ts, so that it runs in the ` +
                    "`stacks` project (npm test) and not in `npm run test:unit` (jest.config.js)",
            );
        },
    };
});
