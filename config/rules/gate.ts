// Rules about the throughput gate: models only on a VM with a GPU, an endpoint the gate can know,
// and each model listed once (by the name Ollama resolves it to, and by its resource name).

import { canonicalName, modelSlug } from "../../lib/modelRef";
import { ParsedConfig } from "../schema";
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
        const seen = new Map<string, number>();
        const slugs = new Map<string, number>();
        vm.models.forEach((m, i) => {
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
