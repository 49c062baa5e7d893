// Secret templates: "postgresql://webui:{{postgresPassword}}@10.10.10.20/webui" names serviceSecrets
// by `{{name}}`. The config rules check the names, the workload fills them in; neither sees how.

const SECRET_REF = /\{\{([A-Za-z][A-Za-z0-9_-]*)\}\}/g;

/** The secret names a template uses: "x{{a}}y{{b}}" → ["a", "b"]. */
export function secretRefs(template: string): string[] {
    return [...template.matchAll(SECRET_REF)].map((m) => m[1] as string);
}

/** Fills a template with the secrets' values; a name without a value is an error that names it. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
    return template.replace(SECRET_REF, (_, name: string) => {
        const v = values[name];
        if (v === undefined) throw new Error(`serviceSecrets.${name} has no value`);
        return v;
    });
}
