// Writes a tiny random-weights llama model as GGUF, the file format Ollama loads, so that the
// throughput gate can be tested and benchmarked against a real Ollama server with no registry and
// no GPU. The model is nonsense by design: what matters is that llama.cpp loads it, does the full
// work of a llama forward pass per token, and generates exactly num_predict tokens of valid text
// (see the output weights in tinyLlamaGguf).
//
// Usage: ts-node testing/tinyModel.ts <out.gguf> [--width N] [--layers N] [--seed N]

import * as fs from "fs";

/** GGUF metadata value types (the GGUF spec, version 3). */
enum T {
    UINT32 = 4,
    INT32 = 5,
    FLOAT32 = 6,
    STRING = 8,
    ARRAY = 9,
}

/** GGML tensor type: 32-bit floats. */
const GGML_F32 = 0;
const ALIGNMENT = 32;

export type Meta =
    | { type: T.UINT32 | T.INT32 | T.FLOAT32; value: number }
    | { type: T.STRING; value: string }
    | { type: T.ARRAY; of: T.INT32 | T.FLOAT32; value: number[] }
    | { type: T.ARRAY; of: T.STRING; value: string[] };

interface Tensor {
    name: string;
    /** GGML order: dims[0] is the row length. */
    dims: number[];
    data: Float32Array;
}

/** An append-only little-endian byte buffer. */
class Writer {
    private chunks: Buffer[] = [];
    length = 0;
    private push(b: Buffer): void {
        this.chunks.push(b);
        this.length += b.length;
    }
    /** A fixed-width value written by one of Buffer's little-endian writers. */
    private fixed(size: number, write: (b: Buffer) => void): void {
        const b = Buffer.alloc(size);
        write(b);
        this.push(b);
    }
    u32(v: number): void {
        this.fixed(4, (b) => b.writeUInt32LE(v));
    }
    i32(v: number): void {
        this.fixed(4, (b) => b.writeInt32LE(v));
    }
    u64(v: number): void {
        this.fixed(8, (b) => b.writeBigUInt64LE(BigInt(v)));
    }
    f32(v: number): void {
        this.fixed(4, (b) => b.writeFloatLE(v));
    }
    str(s: string): void {
        const b = Buffer.from(s, "utf8");
        this.u64(b.length);
        this.push(b);
    }
    bytes(b: Buffer): void {
        this.push(b);
    }
    pad(): void {
        const rem = this.length % ALIGNMENT;
        if (rem !== 0) this.push(Buffer.alloc(ALIGNMENT - rem));
    }
    toBuffer(): Buffer {
        return Buffer.concat(this.chunks);
    }
}

/** One numeric value of a GGUF type. */
function scalar(w: Writer, type: T.UINT32 | T.INT32 | T.FLOAT32, value: number): void {
    if (type === T.UINT32) w.u32(value);
    else if (type === T.INT32) w.i32(value);
    else w.f32(value);
}

function writeMeta(w: Writer, key: string, m: Meta): void {
    w.str(key);
    w.u32(m.type);
    switch (m.type) {
        case T.UINT32:
        case T.INT32:
        case T.FLOAT32:
            scalar(w, m.type, m.value);
            return;
        case T.STRING:
            w.str(m.value);
            return;
        case T.ARRAY:
            w.u32(m.of);
            w.u64(m.value.length);
            for (const v of m.value) {
                if (m.of === T.STRING) w.str(v as string);
                else if (m.of === T.INT32) w.i32(v as number);
                else w.f32(v as number);
            }
    }
}

/** A tensor's entry in the GGUF header: its name, GGML shape and type, and its data's size. */
export interface TensorInfo {
    name: string;
    /** GGML order: dims[0] is the row length. */
    dims: number[];
    /** GGML tensor type (0 F32, 1 F16). */
    type: number;
    bytes: number;
}

/** The GGUF v3 header (metadata and tensor infos), padded so that the tensors' data follows it. */
export function ggufHeader(meta: Record<string, Meta>, tensors: readonly TensorInfo[]): Buffer {
    const w = new Writer();
    w.bytes(Buffer.from("GGUF", "ascii"));
    w.u32(3);
    w.u64(tensors.length);
    w.u64(Object.keys(meta).length);
    for (const [key, m] of Object.entries(meta)) writeMeta(w, key, m);
    let offset = 0;
    for (const t of tensors) {
        w.str(t.name);
        w.u32(t.dims.length);
        for (const d of t.dims) w.u64(d);
        w.u32(t.type);
        w.u64(offset);
        offset += paddedSize(t.bytes);
    }
    w.pad();
    return w.toBuffer();
}

/** A tensor's data size rounded up to the alignment: each tensor's data starts aligned. */
export const paddedSize = (bytes: number) => Math.ceil(bytes / ALIGNMENT) * ALIGNMENT;

/** Serializes metadata and tensors as a GGUF v3 file. */
export function encodeGguf(meta: Record<string, Meta>, tensors: Tensor[]): Buffer {
    const infos = tensors.map((t) => ({ name: t.name, dims: t.dims, type: GGML_F32, bytes: t.data.byteLength }));
    const parts = [ggufHeader(meta, infos)];
    for (const t of tensors) {
        const data = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
        parts.push(data, Buffer.alloc(paddedSize(data.length) - data.length));
    }
    return Buffer.concat(parts);
}

/** A small deterministic PRNG (mulberry32), so the same seed writes the same file. */
export function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

export interface TinyModelOptions {
    /** Embedding width (a multiple of the head count). */
    width?: number;
    layers?: number;
    seed?: number;
}

export const SPECIAL = ["<unk>", "<s>", "</s>"] as const;
/** Whole-word tokens besides the specials and the 256 byte tokens the SPM tokenizer requires. */
export const WORDS = Array.from({ length: 128 }, (_, i) => `▁w${i}`);

/** The tokenizer vocabulary: specials, then `<0x00>`..`<0xFF>`, then a few words. */
export function vocabulary(): { tokens: string[]; types: number[] } {
    const bytes = Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, "0")}>`);
    const tokens = [...SPECIAL, ...bytes, ...WORDS];
    // Token types: 1 normal, 2 unknown, 3 control, 6 byte.
    const types = [2, 3, 3, ...bytes.map(() => 6), ...WORDS.map(() => 1)];
    return { tokens, types };
}

/** The llama architecture's and the tokenizer's GGUF metadata for a model of this shape. */
export function llamaMetadata(
    shape: { width: number; ff: number; layers: number; heads: number },
    tokens: string[],
    types: number[],
): Record<string, Meta> {
    const { width, ff, layers, heads } = shape;
    const nVocab = tokens.length;
    return {
        "general.architecture": { type: T.STRING, value: "llama" },
        "general.name": { type: T.STRING, value: "ai-dualstack tiny test model" },
        "general.alignment": { type: T.UINT32, value: ALIGNMENT },
        "llama.context_length": { type: T.UINT32, value: 2048 },
        "llama.embedding_length": { type: T.UINT32, value: width },
        "llama.feed_forward_length": { type: T.UINT32, value: ff },
        "llama.block_count": { type: T.UINT32, value: layers },
        "llama.attention.head_count": { type: T.UINT32, value: heads },
        "llama.attention.head_count_kv": { type: T.UINT32, value: heads },
        "llama.attention.layer_norm_rms_epsilon": { type: T.FLOAT32, value: 1e-5 },
        "llama.rope.dimension_count": { type: T.UINT32, value: width / heads },
        "llama.vocab_size": { type: T.UINT32, value: nVocab },
        "tokenizer.ggml.model": { type: T.STRING, value: "llama" },
        "tokenizer.ggml.tokens": { type: T.ARRAY, of: T.STRING, value: tokens },
        "tokenizer.ggml.scores": { type: T.ARRAY, of: T.FLOAT32, value: tokens.map((_, i) => -i) },
        "tokenizer.ggml.token_type": { type: T.ARRAY, of: T.INT32, value: types },
        "tokenizer.ggml.unknown_token_id": { type: T.UINT32, value: 0 },
        "tokenizer.ggml.bos_token_id": { type: T.UINT32, value: 1 },
        "tokenizer.ggml.eos_token_id": { type: T.UINT32, value: 2 },
    };
}

/** A llama-architecture GGUF with random weights: about 0.5 MB at the default size. */
export function tinyLlamaGguf(options: TinyModelOptions = {}): Buffer {
    const width = options.width ?? 64;
    const layers = options.layers ?? 2;
    const heads = 4;
    const ff = width * 2;
    const rand = random(options.seed ?? 1);
    const { tokens, types } = vocabulary();
    const nVocab = tokens.length;

    const filled = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
    // Block weights are small, so each position's hidden state stays close to its token's embedding.
    const weights = (rows: number, cols: number): Float32Array =>
        filled(rows * cols, () => (0.05 * (rand() * 2 - 1)) / Math.sqrt(cols));
    const ones = (n: number) => filled(n, () => 1);

    // Greedy decoding of random weights falls into repeating one token, and Ollama aborts a
    // generation that repeats a token 30 times. So the output layer makes each word predict the
    // next word: output row of word i+1 = embedding of word i. The last hidden state is close to
    // the embedding of the current token, and a vector's dot product with itself beats that with
    // any other random vector by about sqrt(width), so the model cycles through the 128 words.
    // The special and byte rows stay zero (logit 0): it never ends early or emits invalid UTF-8.
    const embedding = filled(nVocab * width, () => rand() * 2 - 1);
    const output = new Float32Array(nVocab * width);
    const firstWord = SPECIAL.length + 256;
    for (let i = 0; i < WORDS.length; i++) {
        const prev = firstWord + ((i + WORDS.length - 1) % WORDS.length);
        output.set(embedding.subarray(prev * width, (prev + 1) * width), (firstWord + i) * width);
    }

    const tensors: Tensor[] = [
        { name: "token_embd.weight", dims: [width, nVocab], data: embedding },
        { name: "output_norm.weight", dims: [width], data: ones(width) },
        { name: "output.weight", dims: [width, nVocab], data: output },
    ];
    for (let b = 0; b < layers; b++) {
        const p = `blk.${b}`;
        tensors.push(
            { name: `${p}.attn_norm.weight`, dims: [width], data: ones(width) },
            { name: `${p}.attn_q.weight`, dims: [width, width], data: weights(width, width) },
            { name: `${p}.attn_k.weight`, dims: [width, width], data: weights(width, width) },
            { name: `${p}.attn_v.weight`, dims: [width, width], data: weights(width, width) },
            { name: `${p}.attn_output.weight`, dims: [width, width], data: weights(width, width) },
            { name: `${p}.ffn_norm.weight`, dims: [width], data: ones(width) },
            { name: `${p}.ffn_gate.weight`, dims: [width, ff], data: weights(ff, width) },
            { name: `${p}.ffn_up.weight`, dims: [width, ff], data: weights(ff, width) },
            { name: `${p}.ffn_down.weight`, dims: [ff, width], data: weights(width, ff) },
        );
    }

    return encodeGguf(llamaMetadata({ width, ff, layers, heads }, tokens, types), tensors);
}

/**
 * The Modelfile that turns the GGUF into an Ollama model: raw prompts, no chat template; `threads` pins its
 * num_thread (left out: Ollama's own choice, one per core).
 */
export function tinyModelfile(ggufPath: string, threads?: number): string {
    return [
        `FROM ${ggufPath}`,
        'TEMPLATE "{{ .Prompt }}"',
        "PARAMETER num_ctx 512",
        ...(threads !== undefined ? [`PARAMETER num_thread ${threads}`] : []),
        "",
    ].join("\n");
}

function main(argv: string[]): number {
    if (argv.includes("--help") || argv.includes("-h") || argv.length === 0) {
        console.log(
            [
                "Usage: ts-node testing/tinyModel.ts <out.gguf> [--width N] [--layers N] [--seed N]",
                "",
                "Writes a tiny random-weights llama GGUF (about 0.5 MB) and <out>.Modelfile beside it;",
                "`ollama create <name> -f <out>.Modelfile` loads it into a real Ollama with no registry.",
            ].join("\n"),
        );
        return argv.length === 0 ? 2 : 0;
    }
    const out = argv[0] as string;
    const num = (flag: string): number | undefined => {
        const i = argv.indexOf(flag);
        return i < 0 ? undefined : Number(argv[i + 1]);
    };
    const opts: TinyModelOptions = {};
    const width = num("--width");
    const layers = num("--layers");
    const seed = num("--seed");
    if (width !== undefined) opts.width = width;
    if (layers !== undefined) opts.layers = layers;
    if (seed !== undefined) opts.seed = seed;
    fs.writeFileSync(out, tinyLlamaGguf(opts));
    fs.writeFileSync(`${out}.Modelfile`, tinyModelfile(out));
    console.log(`wrote ${out} and ${out}.Modelfile`);
    return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
