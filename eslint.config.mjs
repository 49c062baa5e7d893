// Lint: typescript-eslint with type information, plus Pulumi's rules so that an Output never
// lands in a template literal (it would print "Calling [toString] on an Output<T>"), the layering
// of the tree (imports run lib ← config ← components ← stacks ← tools, with providers beside config
// and testing beside tools), no import circles (eslint-rules/no-cycle.mjs), and the size limits that
// keep files and functions readable.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";
import noCycle from "./eslint-rules/no-cycle.mjs";

/** A folder may import only from the layers below it. */
const layer = (files, forbidden, why) => ({
    files,
    rules: {
        "no-restricted-imports": [
            "error",
            {
                patterns: [
                    {
                        regex: `(^|/)(${forbidden.join("|")})(/|$)`,
                        message: `${why} (imports run lib ← config ← components ← stacks ← tools; testing beside tools)`,
                    },
                ],
            },
        ],
    },
});

export default tseslint.config(
    {
        ignores: [
            "node_modules/",
            "bin/",
            "dist/",
            "coverage/",
            "eslint.config.mjs",
            "jest.config.js",
            "jest.e2e.config.js",
        ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        plugins: { "@pulumi": pulumi, local: { rules: { "no-cycle": noCycle } } },
        rules: {
            "local/no-cycle": "error",
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
    // The local rules are plain ESM that no tsconfig covers: linted without type information.
    {
        files: ["eslint-rules/**/*.mjs"],
        ...tseslint.configs.disableTypeChecked,
        rules: {
            ...tseslint.configs.disableTypeChecked.rules,
            "@pulumi/no-output-in-template-literal": "off",
            "@pulumi/no-output-instance-in-template-literal": "off",
        },
    },
    {
        files: ["**/*.ts"],
        ignores: ["tests/**"],
        rules: {
            "max-lines": ["error", { max: 350 }],
            "max-lines-per-function": ["error", { max: 60 }],
        },
    },
    layer(
        ["lib/**/*.ts"],
        ["config", "components", "providers", "stacks", "tools", "testing", "@pulumi"],
        "lib/ is plain code: it imports no other layer and no Pulumi",
    ),
    layer(["config/**/*.ts"], ["components", "providers", "stacks", "tools", "testing"], "config/ builds on lib/ only"),
    layer(
        ["providers/**/*.ts"],
        ["config", "components", "stacks", "tools", "testing"],
        "providers/ build on lib/ only",
    ),
    layer(["components/**/*.ts"], ["stacks", "tools", "testing"], "components/ build on config/, providers/ and lib/"),
    layer(["stacks/**/*.ts"], ["tools", "testing"], "stacks/ wire components; tools and testing build on them"),
    layer(["testing/**/*.ts"], ["tools"], "testing/ serves tests, benches and tools, and imports no tool"),
    layer(
        ["policy/**/*.ts"],
        ["lib", "config", "components", "providers", "stacks", "tools", "testing"],
        "policy/ is a pack the engine loads on its own: it imports only @pulumi/policy and the SDKs",
    ),
);
