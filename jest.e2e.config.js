// The e2e suites (tests/e2e): the real Pulumi engine and plugins that .ci/pulumi-toolchain.sh builds. `npm run test:e2e`
// runs them. Each file keeps its stacks in its own temporary project and file backend (testing/engine.ts) and shares
// only the read-only plugin cache, so two run at once: one engine uses about one core (each preview starts the CLI and
// its plugins, then waits on them), and two took 146 s (278 CPU-s) where one at a time took 213 s.
/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/tests/e2e"],
    testMatch: ["**/*.test.ts"],
    transform: { "^.+\\.ts$": ["ts-jest", {}] },
    testTimeout: 300000,
    maxWorkers: 2,
};
