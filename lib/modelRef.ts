// Ollama model references, compared the way Ollama resolves them: case-insensitive, the default
// registry and namespace implied, the tag "latest" when none is given. Used by the config rules,
// the gate's client and the resource names, so all three agree on what "the same model" is.

const DEFAULT_PREFIXES = ["registry.ollama.ai/library/", "registry.ollama.ai/", "library/"];

/** "Qwen2.5" → "qwen2.5:latest"; "registry.ollama.ai/library/mistral:7b" → "mistral:7b". */
export function canonicalName(model: string): string {
    let name = model.trim().toLowerCase();
    for (const prefix of DEFAULT_PREFIXES) {
        if (name.startsWith(prefix)) {
            name = name.slice(prefix.length);
            break;
        }
    }
    const last = name.split("/").pop() ?? name;
    return last.includes(":") ? name : `${name}:latest`;
}

/** A resource-name slug of a model reference: "qwen2.5:14b" → "qwen2-5-14b". */
export function modelSlug(model: string): string {
    return canonicalName(model)
        .replace(/:latest$/, "")
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "");
}
