// Sets values in a YAML file by splicing its text, so that everything init does not change (the
// comments, the folded descriptions, the flow collections, the quoting) stays byte for byte. The
// yaml package's Document gives each node's source range; only the nodes whose value differs are
// rewritten, and a key that is missing is inserted after its map's last entry.

import { Document, isCollection, isMap, isScalar, isSeq, Node, parseDocument, Scalar, visit, YAMLMap } from "yaml";

interface Splice {
    start: number;
    end: number;
    text: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);

/** Strings that read as ids or PCI addresses ("10de:2b85", "0000:01:00.0") are double-quoted, as Pulumi.yaml writes them. */
function quoteIds(node: Node): Node {
    visit(node, {
        Scalar(_key, s) {
            if (typeof s.value === "string" && /^[0-9a-f]{4}:/.test(s.value)) s.type = Scalar.QUOTE_DOUBLE;
        },
    });
    return node;
}

/** A value as YAML text, block style, its lines after the first indented by `indent` spaces; no final newline. */
function render(value: unknown, indent: number, flow = false): string {
    const doc = new Document();
    const node = quoteIds(doc.createNode(value));
    if (flow && isCollection(node)) node.flow = true;
    doc.contents = node;
    const text = doc.toString({ lineWidth: 0, flowCollectionPadding: false }).replace(/\n$/, "");
    return text
        .split("\n")
        .map((l, i) => (i === 0 || l === "" ? l : " ".repeat(indent) + l))
        .join("\n");
}

function column(text: string, offset: number): number {
    return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

/** A block collection's range runs on over the line breaks after it: the offset after its last text. */
function textEnd(text: string, end: number): number {
    while (end > 0 && /\s/.test(text[end - 1] as string)) end--;
    return end;
}

function same(node: unknown, value: unknown): boolean {
    const json = isScalar(node) ? node.value : (node as { toJSON?: () => unknown } | undefined)?.toJSON?.();
    return JSON.stringify(json) === JSON.stringify(value);
}

/** The splices that make `node` hold `value`. */
function edit(text: string, node: Node, value: unknown, out: Splice[]): void {
    if (same(node, value)) return;
    const [start, valueEnd] = node.range ?? [0, 0, 0];
    if (isMap(node) && isPlainObject(value)) {
        for (const [key, v] of Object.entries(value)) {
            const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
            if (pair && pair.value && (pair.value as Node).range) edit(text, pair.value as Node, v, out);
            else if (!pair) insertKey(text, node, key, v, out);
        }
        return;
    }
    if (isSeq(node) && Array.isArray(value) && value.length === node.items.length && !node.flow) {
        value.forEach((v, i) => edit(text, node.items[i] as Node, v, out));
        return;
    }
    if (isScalar(node) && (typeof value !== "object" || value === null)) {
        const s = new Scalar(value);
        if (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) s.type = node.type;
        out.push({ start, end: valueEnd, text: render(s, 0) });
        return;
    }
    out.push({
        start,
        end: textEnd(text, valueEnd),
        text: render(value, column(text, start), isCollection(node) && node.flow),
    });
}

/** Inserts `key: value` after the map's last entry, at its keys' indentation. */
function insertKey(text: string, map: YAMLMap, key: string, value: unknown, out: Splice[]): void {
    const last = map.items[map.items.length - 1];
    const firstKey = map.items[0]?.key as Node | undefined;
    if (!last || !firstKey?.range || map.flow) throw new Error(`cannot insert ${key} into an empty or flow map`);
    const indent = column(text, firstKey.range[0]);
    const lastEnd = ((last.value ?? last.key) as Node).range?.[1] ?? firstKey.range[1];
    const lineEnd = text.indexOf("\n", textEnd(text, lastEnd));
    const at = lineEnd === -1 ? text.length : lineEnd + 1;
    const line = " ".repeat(indent) + render({ [key]: value }, indent);
    out.push({ start: at, end: at, text: `${line}\n` });
}

/**
 * The text with each (path, value) set. Every path's parent must exist as a block map in the file; a
 * value equal to the file's is left as it is.
 */
export function setInText(text: string, edits: { path: (string | number)[]; value: unknown }[]): string {
    let current = text;
    // One edit at a time on a fresh parse: ranges stay right, and an inserted key is seen by the next.
    for (const e of edits) {
        const doc = parseDocument(current);
        if (doc.errors.length > 0) throw new Error(`the YAML does not parse: ${doc.errors[0]?.message}`);
        const out: Splice[] = [];
        const node = doc.getIn(e.path, true) as Node | undefined;
        if (node !== undefined && node.range) edit(current, node, e.value, out);
        else {
            // The deepest map on the path that exists takes the rest of the path as one nested value.
            let depth = e.path.length - 1;
            while (depth > 0 && doc.getIn(e.path.slice(0, depth), true) === undefined) depth--;
            const parent = doc.getIn(e.path.slice(0, depth), true);
            if (!isMap(parent)) throw new Error(`${e.path.slice(0, depth).join(".")} is not a map in the file`);
            const nested = e.path
                .slice(depth + 1)
                .reverse()
                .reduce<unknown>((v, k) => ({ [String(k)]: v }), e.value);
            insertKey(current, parent, String(e.path[depth]), nested, out);
        }
        for (const s of out.sort((a, b) => b.start - a.start)) {
            current = current.slice(0, s.start) + s.text + current.slice(s.end);
        }
    }
    return current;
}
