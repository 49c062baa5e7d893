// Rules about the throughput gate: models only on a VM with a GPU, an endpoint the gate can know,
// and each model listed once (by the name Ollama resolves it to, and by its resource name).

import { canonicalName, modelSlug } from "../../lib/modelRef";
import { VRAM_HEADROOM_GIB, gbToGiB, knownModelSizeGB, largestFitting } from "../../lib/modelSizes";
import { ModelGateConfig, ParsedConfig } from "../schema";
import { Add } from "./issues";

/** The throughput gate measures on the VM's GPU, one model at a time. */
export function checkModels(cfg: ParsedConfig, add: Add): void {
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        if (vm.models.length === 0) continue;
        const at = `vms.${vmName}.models`;
        if (vm.gpu === undefined) {
            add(
                at,
                `the throughput gate measures models on the VM's GPU, and this VM has none; set vms.${vmName}.gpu or remove its models`,
            );
            continue;
        }
        if (vm.network.address === "dhcp" && vm.throughputGate.enabled && vm.throughputGate.endpoint === undefined) {
            add(
                `vms.${vmName}.throughputGate.endpoint`,
                `the VM takes its address by DHCP, so the gate cannot know where Ollama listens; set it (such as "http://ai.lan:11434") or give the VM a static address`,
            );
        }
        const gpuAt = `nodes.${vm.node}.gpus.${vm.gpu}`;
        const gpu = cfg.nodes[vm.node]?.gpus[vm.gpu];
        const seen = new Map<string, number>();
        const slugs = new Map<string, number>();
        vm.models.forEach((m, i) => {
            const untagged = untaggedModel(m.name);
            if (untagged) add(`${at}[${i}].name`, untagged);
            const tooBig = gpu ? modelTooBig(m, gpu.vramGiB, gpuAt) : undefined;
            if (tooBig) add(`${at}[${i}]${m.sizeGB === undefined ? ".name" : ".sizeGB"}`, tooBig);
            const key = canonicalName(m.name);
            const first = seen.get(key);
            const sameSlug = slugs.get(modelSlug(m.name));
            if (first !== undefined)
                add(`${at}[${i}].name`, `${m.name} is already gated at ${at}[${first}]; list each model once`);
            else if (sameSlug !== undefined)
                add(
                    `${at}[${i}].name`,
                    `${m.name} and ${at}[${sameSlug}] (${vm.models[sameSlug]?.name}) would share the gate's resource name "${modelSlug(m.name)}"; gate one of them`,
                );
            if (first === undefined) seen.set(key, i);
            if (sameSlug === undefined) slugs.set(modelSlug(m.name), i);
        });
    }
}

/** A size at the end of a name, "-14b", "-0.5b", "-8x7b": most likely the tag, written with "-" for ":". */
const SIZE_SUFFIX = /-(\d+(\.\d+)?[bm]|\d+x\d+(\.\d+)?b)$/i;

/**
 * A reference without a tag: Ollama reads it as ":latest", which follows whatever is published
 * next, so the gate's figure would measure a model nobody chose. The message suggests the tag.
 */
export function untaggedModel(name: string): string | undefined {
    if ((name.split("/").pop() ?? name).includes(":")) return undefined;
    const sized = SIZE_SUFFIX.exec(name);
    const suggestion = sized
        ? `"${name.slice(0, sized.index)}:${sized[1] ?? ""}"`
        : `"${name}:<tag>" with one of its tags from the Ollama library, such as "mistral:7b"`;
    return `${name} has no tag, so Ollama reads it as ${name}:latest, which changes whenever a new version is published; pin a tag: ${suggestion}`;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * A model whose weights and the headroom beside them exceed the card's memory: Ollama would pull it
 * whole (tens of GB) and then run it partly on the CPU, which the gate refuses after the download.
 * Its size comes from the config (sizeGB) or the repository's table; unknown to both, it is not checked.
 */
export function modelTooBig(model: ModelGateConfig, vramGiB: number, gpuAt: string): string | undefined {
    const sizeGB = model.sizeGB ?? knownModelSizeGB(model.name);
    if (sizeGB === undefined) return undefined;
    const needGiB = gbToGiB(sizeGB) + VRAM_HEADROOM_GIB;
    if (needGiB <= vramGiB) return undefined;
    const source = model.sizeGB === undefined ? "in the Ollama library (lib/modelSizes.ts)" : "as sizeGB states";
    const smaller = largestFitting(model.name, vramGiB);
    const fix = smaller
        ? `gate a smaller tag, such as ${smaller} (${knownModelSizeGB(smaller)} GB), or put the model on a card with more memory`
        : "gate a smaller model, or put it on a card with more memory";
    return `${model.name} is ${sizeGB} GB ${source}, ${round1(gbToGiB(sizeGB))} GiB, and with ${VRAM_HEADROOM_GIB} GiB for the context needs ${round1(needGiB)} GiB; ${gpuAt} has ${vramGiB} GiB of memory, so Ollama would download it and then run it partly on the CPU; ${fix}`;
}
