// Tests run the TypeScript sources directly; `npm run typecheck` does the type checking. Three projects,
// chosen by a file's name, so a new test falls into one by how it is named:
// - unit (*.test.ts): everything else; `npm run test:unit`, what to run while editing.
// - stacks (*.stack.test.ts): suites that run the whole program for a stack in the mock runtime; each
//   committed stack is planned once per run and shared between them (tests/helpers/planCache.ts). A
//   unit suite that plans a whole stack fails and says so (tests/helpers/unitProject.ts).
// - live (*.live.test.ts): suites that start a real server or tool for minutes (Ollama, the Pulumi CLI);
//   they are skipped on a workstation without it and fail under CI.
// `npm test` runs all three; `npm run test:unit` (or test:stacks, test:live) sets AIDS_JEST_PROJECT to run one,
// and paths and options may follow: `npm run test:unit -- tests/lib --watch` (jest's --selectProjects would
// take the path for a project name). The e2e suites (real engine, minutes) run apart: `npm run test:e2e`
// (jest.e2e.config.js), and so do the booted-system suites (*.systems.test.ts: real Debian systems, root,
// minutes): `npm run test:systems`, never part of `npm test`; so does the real Open WebUI (*.webui.test.ts: the
// pinned release from a 7 GB cached virtualenv, .ci/webui.sh): `npm run test:webui`.
const common = {
    testEnvironment: "node",
    roots: ["<rootDir>/tests"],
    transform: { "^.+\\.ts$": ["ts-jest", {}] },
};
const ignored = ["/node_modules/", "<rootDir>/tests/e2e/"];

const projects = [
    {
        ...common,
        displayName: "unit",
        testMatch: ["**/*.test.ts"],
        testPathIgnorePatterns: [...ignored, "\\.(stack|live|systems|webui)\\.test\\.ts$"],
        setupFilesAfterEnv: ["<rootDir>/tests/helpers/unitProject.ts"],
    },
    {
        ...common,
        displayName: "stacks",
        testMatch: ["**/*.stack.test.ts"],
        testPathIgnorePatterns: ignored,
        globalSetup: "<rootDir>/tests/helpers/planCacheSetup.ts",
        globalTeardown: "<rootDir>/tests/helpers/planCacheTeardown.ts",
    },
    { ...common, displayName: "live", testMatch: ["**/*.live.test.ts"], testPathIgnorePatterns: ignored },
    {
        ...common,
        displayName: "systems",
        testMatch: ["**/*.systems.test.ts"],
        testPathIgnorePatterns: ignored,
        globalSetup: "<rootDir>/tests/helpers/planCacheSetup.ts",
        globalTeardown: "<rootDir>/tests/helpers/planCacheTeardown.ts",
    },
    {
        ...common,
        displayName: "webui",
        testMatch: ["**/*.webui.test.ts"],
        testPathIgnorePatterns: ignored,
        globalSetup: "<rootDir>/tests/helpers/planCacheSetup.ts",
        globalTeardown: "<rootDir>/tests/helpers/planCacheTeardown.ts",
    },
];
const byDefault = projects.filter((p) => p.displayName !== "systems" && p.displayName !== "webui");

const only = process.env.AIDS_JEST_PROJECT;
if (only && !projects.some((p) => p.displayName === only)) {
    throw new Error(`AIDS_JEST_PROJECT=${only}: no such jest project (unit, stacks, live, systems, webui)`);
}

/** @type {import('jest').Config} */
module.exports = {
    testTimeout: 60000,
    // Every core: jest's default leaves one for itself, which on a two-core machine runs the suites one at a
    // time (test:unit 66 s with one worker, 39 s with two, measured on this project's two-core machine).
    maxWorkers: "100%",
    projects: only ? projects.filter((p) => p.displayName === only) : byDefault,
};
