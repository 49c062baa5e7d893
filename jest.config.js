// Tests run the TypeScript sources directly; `npm run typecheck` does the type checking. The e2e suites (real
// engine, minutes) run apart: `npm run test:e2e` (jest.e2e.config.js).
/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/tests"],
    testMatch: ["**/*.test.ts"],
    testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/e2e/"],
    transform: { "^.+\\.ts$": ["ts-jest", {}] },
    testTimeout: 60000,
};
