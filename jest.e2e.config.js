// The e2e suites (tests/e2e): the real Pulumi engine and plugins that .ci/pulumi-toolchain.sh builds. Slow and
// stateful (each preview starts the CLI and its plugins), so one file at a time. `npm run test:e2e` runs them.
/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/tests/e2e"],
    testMatch: ["**/*.test.ts"],
    transform: { "^.+\\.ts$": ["ts-jest", {}] },
    testTimeout: 300000,
    maxWorkers: 1,
};
