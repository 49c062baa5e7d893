// A local ESLint rule in place of eslint-plugin-import's no-cycle (not a dependency here): it
// reports an import that leads, through the project's own files, back to the file that makes it.
// Imports are read and resolved by TypeScript itself, so `import type`, re-exports and folder index
// files count as they do for the compiler. A dynamic import() runs later, not at load, and is no edge.

import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

const compilerOptions = { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 };

/** Each file's resolved project imports, kept while the file is unchanged. */
const cache = new Map();

/** The project files `file` imports (type-only imports included); node_modules and declarations left out. */
function importsOf(file) {
    let mtimeMs;
    try {
        mtimeMs = fs.statSync(file).mtimeMs;
    } catch {
        return [];
    }
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === mtimeMs) return hit.imports;
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
    const imports = [];
    for (const statement of source.statements) {
        const specifier = staticSpecifier(statement);
        const target = specifier === undefined ? undefined : resolve(specifier, file);
        if (target) imports.push(target);
    }
    cache.set(file, { mtimeMs, imports });
    return imports;
}

/** The module an import, `export ... from` or `import x = require()` statement names. */
function staticSpecifier(statement) {
    if (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) {
        const spec = statement.moduleSpecifier;
        return spec && ts.isStringLiteral(spec) ? spec.text : undefined;
    }
    if (ts.isImportEqualsDeclaration(statement) && ts.isExternalModuleReference(statement.moduleReference)) {
        const spec = statement.moduleReference.expression;
        return ts.isStringLiteral(spec) ? spec.text : undefined;
    }
    return undefined;
}

function resolve(specifier, from) {
    if (!specifier.startsWith(".")) return undefined;
    const found = ts.resolveModuleName(specifier, from, compilerOptions, ts.sys).resolvedModule;
    if (!found || found.isExternalLibraryImport || found.resolvedFileName.endsWith(".d.ts")) return undefined;
    return path.resolve(found.resolvedFileName);
}

/** A path of imports from `start` back to `target`, or undefined (depth first, each file once). */
function pathBack(start, target) {
    const seen = new Set();
    const walk = (file, trail) => {
        if (file === target) return trail;
        if (seen.has(file)) return undefined;
        seen.add(file);
        for (const next of importsOf(file)) {
            const found = walk(next, [...trail, next]);
            if (found) return found;
        }
        return undefined;
    };
    return walk(start, [start]);
}

export default {
    meta: {
        type: "problem",
        docs: { description: "Forbid an import that leads back to the importing file (an import circle)." },
        schema: [],
        messages: {
            cycle: "import circle: {{circle}}; move what both sides need into a file of its own, or pass it in",
        },
    },
    create(context) {
        const file = path.resolve(context.filename);
        const cwd = context.cwd;
        const check = (node) => {
            const specifier = node.source?.value;
            if (typeof specifier !== "string") return;
            const target = resolve(specifier, file);
            if (!target) return;
            const back = pathBack(target, file);
            if (!back) return;
            const circle = [file, ...back].map((f) => path.relative(cwd, f)).join(" → ");
            context.report({ node: node.source, messageId: "cycle", data: { circle } });
        };
        return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
    },
};
