// Writes a random-weights llama model in F16 of any size, streamed to disk, for the GPU bench: the
// tiny test model's design (testing/tinyModel.ts: its vocabulary, metadata and output trick, so that
// greedy decoding cycles through whole words and generates exactly num_predict tokens) at the shape
// of a real model, e.g. 4096 wide and 32 layers is a 7B-shaped 13 GB file. The block weights are
// slices of one random pool: the values do not change the work of a forward pass.

import * as fs from "fs";
import {
    ggufHeader,
    llamaMetadata,
    paddedSize,
    random,
    SPECIAL,
    TensorInfo,
    vocabulary,
    WORDS,
} from "../../testing/tinyModel";

/** GGML tensor types. */
const F32 = 0;
const F16 = 1;

export interface F16ModelShape {
    width: number;
    layers: number;
    /** Feed-forward width; default 8/3 of the width rounded up to 256, as llama's (11008 at 4096). */
    ff?: number;
    /** Attention heads; default one per 128 of the width (32 at 4096). */
    heads?: number;
    seed?: number;
}

/** IEEE half precision from a double, rounded to nearest (subnormals included). */
export function toHalf(value: number): number {
    const f = new Float32Array([value]);
    const x = new Uint32Array(f.buffer)[0] as number;
    const sign = (x >>> 16) & 0x8000;
    const exp = ((x >>> 23) & 0xff) - 127 + 15;
    const mant = x & 0x7fffff;
    if (exp >= 31) return sign | 0x7c00;
    if (exp <= 0) {
        if (exp < -10) return sign;
        const m = mant | 0x800000;
        return sign | Math.round(m / 2 ** (14 - exp));
    }
    return sign | ((exp << 10) + Math.round(mant / 8192));
}

/** Float32 values as F16 bytes. */
export function halves(values: Float32Array): Buffer {
    const out = Buffer.alloc(values.length * 2);
    for (let i = 0; i < values.length; i++) out.writeUInt16LE(toHalf(values[i] as number), i * 2);
    return out;
}

function resolveShape(s: F16ModelShape): Required<F16ModelShape> {
    const ff = s.ff ?? Math.ceil((s.width * 8) / 3 / 256) * 256;
    const heads = s.heads ?? Math.max(1, Math.floor(s.width / 128));
    if (s.width % heads !== 0) throw new Error(`width ${s.width} is not a multiple of ${heads} heads`);
    return { width: s.width, layers: s.layers, ff, heads, seed: s.seed ?? 1 };
}

/** The tensors of the model, in file order. */
export function tensorInfos(shape: F16ModelShape): TensorInfo[] {
    const { width, layers, ff } = resolveShape(shape);
    const nVocab = vocabulary().tokens.length;
    const t = (name: string, dims: number[], type = F16): TensorInfo => ({
        name,
        dims,
        type,
        bytes: dims.reduce((a, b) => a * b, 1) * (type === F16 ? 2 : 4),
    });
    const infos = [
        t("token_embd.weight", [width, nVocab]),
        t("output_norm.weight", [width], F32),
        t("output.weight", [width, nVocab]),
    ];
    for (let b = 0; b < layers; b++) {
        const p = `blk.${b}`;
        infos.push(
            t(`${p}.attn_norm.weight`, [width], F32),
            t(`${p}.attn_q.weight`, [width, width]),
            t(`${p}.attn_k.weight`, [width, width]),
            t(`${p}.attn_v.weight`, [width, width]),
            t(`${p}.attn_output.weight`, [width, width]),
            t(`${p}.ffn_norm.weight`, [width], F32),
            t(`${p}.ffn_gate.weight`, [width, ff]),
            t(`${p}.ffn_up.weight`, [width, ff]),
            t(`${p}.ffn_down.weight`, [ff, width]),
        );
    }
    return infos;
}

/** Weights' bytes of a model of this shape (what Ollama lists as its size, less the header). */
export function weightBytes(shape: F16ModelShape): number {
    return tensorInfos(shape).reduce((sum, t) => sum + paddedSize(t.bytes), 0);
}

/** The embedding and the output layer: each word's output row is the previous word's embedding. */
function embeddings(width: number, rand: () => number): { embd: Buffer; output: Buffer } {
    const nVocab = vocabulary().tokens.length;
    const embd = Float32Array.from({ length: nVocab * width }, () => rand() * 2 - 1);
    const output = new Float32Array(nVocab * width);
    const firstWord = SPECIAL.length + 256;
    for (let i = 0; i < WORDS.length; i++) {
        const prev = firstWord + ((i + WORDS.length - 1) % WORDS.length);
        output.set(embd.subarray(prev * width, (prev + 1) * width), (firstWord + i) * width);
    }
    return { embd: halves(embd), output: halves(output) };
}

const POOL_VALUES = 1 << 22; // 8 MiB of F16

/** Writes the model to `file`; returns its size in bytes. */
export function writeF16Model(file: string, shape: F16ModelShape): number {
    const s = resolveShape(shape);
    const rand = random(s.seed);
    const { tokens, types } = vocabulary();
    const infos = tensorInfos(s);
    const { embd, output } = embeddings(s.width, rand);
    // Small block weights keep each hidden state close to its token's embedding (tinyModel.ts).
    const scale = 0.05 / Math.sqrt(Math.max(s.width, s.ff));
    const poolValues = Math.min(POOL_VALUES, s.width * s.ff); // a small model needs no 8 MiB pool
    const pool = halves(Float32Array.from({ length: poolValues }, () => scale * (rand() * 2 - 1)));
    const ones = (n: number) => Buffer.from(new Float32Array(n).fill(1).buffer);
    const fd = fs.openSync(file, "w");
    try {
        let size = fs.writeSync(fd, ggufHeader(llamaMetadata(s, tokens, types), infos));
        infos.forEach((t, i) => {
            const fixed = t.name === "token_embd.weight" ? embd : t.name === "output.weight" ? output : undefined;
            if (fixed) size += fs.writeSync(fd, fixed);
            else if (t.type === F32) size += fs.writeSync(fd, ones(t.bytes / 4));
            else size += writePooled(fd, pool, t.bytes, (i * 7919 * 2) % pool.length);
            const pad = paddedSize(t.bytes) - t.bytes;
            if (pad > 0) size += fs.writeSync(fd, Buffer.alloc(pad));
        });
        return size;
    } finally {
        fs.closeSync(fd);
    }
}

/** `bytes` of F16 weights from the pool, starting at `start` and wrapping around. */
function writePooled(fd: number, pool: Buffer, bytes: number, start: number): number {
    let written = 0;
    let at = start;
    while (written < bytes) {
        const n = Math.min(bytes - written, pool.length - at);
        written += fs.writeSync(fd, pool, at, n);
        at = (at + n) % pool.length;
    }
    return written;
}
