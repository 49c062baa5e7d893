// The fit check of models against their GPU's memory, from the table or the config's sizeGB.

import { modelTooBig } from "../../config/rules/gate";
import { ModelGateSchema } from "../../config/schema/gate";
import { gbToGiB, knownModelSizeGB, largestFitting } from "../../lib/modelSizes";

const model = (m: Record<string, unknown>) => ModelGateSchema.parse(m);

test("the table is read the way Ollama resolves names", () => {
    expect(knownModelSizeGB("registry.ollama.ai/library/Qwen2.5:72B")).toBe(47);
    expect(knownModelSizeGB("qwen2.5")).toBeUndefined(); // :latest is no size the table can vouch for
    expect(gbToGiB(47)).toBeCloseTo(43.77, 2);
});

test("a model that fits passes; one that does not names its size, the card's memory and a smaller tag", () => {
    expect(modelTooBig(model({ name: "qwen2.5:32b" }), 32, "nodes.n.gpus.g")).toBeUndefined();
    const msg = modelTooBig(model({ name: "qwen2.5:32b" }), 12, "nodes.n.gpus.g");
    expect(msg).toContain("qwen2.5:32b is 20 GB in the Ollama library");
    expect(msg).toContain("nodes.n.gpus.g has 12 GiB of memory");
    expect(msg).toContain("such as qwen2.5:14b (9 GB)");
    expect(largestFitting("qwen2.5:72b", 32)).toBe("qwen2.5:32b");
});

test("the headroom counts: weights just under the card's memory are refused", () => {
    // 33 GB = 30.7 GiB of weights, + 1 GiB headroom > 31 GiB.
    expect(modelTooBig(model({ name: "x/custom:1", sizeGB: 33 }), 31, "g")).toContain("as sizeGB states");
    expect(modelTooBig(model({ name: "x/custom:1", sizeGB: 32 }), 31, "g")).toBeUndefined();
});

test("a model neither the table nor the config sizes is not checked; sizeGB wins over the table", () => {
    expect(modelTooBig(model({ name: "someone/unknown:7b" }), 1, "g")).toBeUndefined();
    expect(modelTooBig(model({ name: "qwen2.5:72b", sizeGB: 20 }), 32, "g")).toBeUndefined();
    expect(modelTooBig(model({ name: "mistral:7b", sizeGB: 40 }), 32, "g")).toContain(
        "gate a smaller model, or put it on a card with more memory",
    );
});
