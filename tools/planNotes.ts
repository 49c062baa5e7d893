// The plan's notes and warnings, grouped: a warning the config repeats for several paths (the example
// SSH key on every guest, a secret not set) prints once, with a count and the paths it applies to.
// Plain functions.

/** The name a note is about: its first word when that is a config path (dotted or namespaced). */
function nameOf(body: string): string | undefined {
    const first = body.split(" ", 1)[0]?.replace(/:$/, "") ?? "";
    return /[.:]/.test(first) && !first.includes("(") ? first : undefined;
}

interface Group {
    /** The note's text with every occurrence of its name replaced by `<name>`. */
    template: string;
    names: string[];
    /** The note as written, for a group of one. */
    first: string;
}

/**
 * The notes with those that repeat the same text but for a name folded into one line each:
 * `<text with <name>> (N times; <name>: a, b, c)`, at the place of the first. Others stay as they are.
 */
export function groupNotes(notes: readonly string[]): string[] {
    const groups: Group[] = [];
    const byTemplate = new Map<string, Group>();
    for (const note of notes) {
        const prefix = note.startsWith("warning: ") ? "warning: " : "";
        const name = nameOf(note.slice(prefix.length));
        const template = name ? note.split(name).join("<name>") : note;
        const known = byTemplate.get(template);
        if (known && name) {
            if (!known.names.includes(name)) known.names.push(name);
            continue;
        }
        const group: Group = { template, names: name ? [name] : [], first: note };
        groups.push(group);
        // A note without a config path stays as written.
        if (name) byTemplate.set(template, group);
    }
    return groups.map((g) =>
        g.names.length > 1 ? `${g.template} (${g.names.length} times; <name>: ${g.names.join(", ")})` : g.first,
    );
}
