// Rules about the continuous throughput probe: it measures the VM's own Ollama service, and the VM's
// node-exporter reads the folder the probe writes into (docs/throughput-gate.md, "Continuous probe").

import * as path from "path";
import { ParsedConfig, ServiceConfig, VmConfig } from "../schema";
import { Add } from "./issues";

/** prom/node-exporter, quay.io/prometheus/node-exporter...: the image's last path part, without tag. */
export function isNodeExporter(svc: Pick<ServiceConfig, "image">): boolean {
    const last = svc.image.split("@")[0]?.split("/").pop() ?? "";
    return /^node-exporter(:|$)/.test(last);
}

/** Where a VM folder appears inside a container, through its host-path mounts; undefined if none covers it. */
export function containerPathOf(svc: Pick<ServiceConfig, "volumes">, vmDir: string): string | undefined {
    const covering = svc.volumes
        .filter((v) => v.source.startsWith("/"))
        .filter((v) => v.source === "/" || vmDir === v.source || vmDir.startsWith(`${v.source.replace(/\/$/, "")}/`))
        .sort((a, b) => b.source.length - a.source.length)[0];
    if (covering === undefined) return undefined;
    const rest = covering.source === "/" ? vmDir : vmDir.slice(covering.source.replace(/\/$/, "").length);
    return path.posix.join(covering.target, rest);
}

/** The flag that points node-exporter's textfile collector at a folder. */
export const textfileFlag = (dir: string) => `--collector.textfile.directory=${dir}`;

function checkVm(vmName: string, vm: VmConfig, add: Add): void {
    const at = `vms.${vmName}`;
    const dir = vm.throughputGate.probe.textfileDirectory;
    const off = `or set ${at}.throughputGate.probe.enabled: false`;
    if (vm.services["ollama"] === undefined) {
        add(
            `${at}.throughputGate.probe.enabled`,
            `the probe measures the VM's own Ollama (the service "ollama"), and this VM runs none; add it, ${off}`,
        );
    }
    const exporters = Object.entries(vm.services).filter(([, s]) => isNodeExporter(s));
    if (exporters.length === 0) {
        add(
            `${at}.services`,
            `the probe writes its metrics for node-exporter's textfile collector, and no node-exporter service runs here; add one (image prom/node-exporter) that reads ${dir}, ${off}`,
        );
    }
    for (const [name, svc] of exporters) {
        const inside = containerPathOf(svc, dir);
        if (inside === undefined) {
            add(
                `${at}.services.${name}.volumes`,
                `node-exporter cannot see the probe's folder ${dir}: mount the VM's root ({ source: /, target: /host, readOnly: true }) or that folder`,
            );
        } else if (!(svc.command ?? []).includes(textfileFlag(inside))) {
            add(
                `${at}.services.${name}.command`,
                `add "${textfileFlag(inside)}" so node-exporter reads the probe's metrics (the VM's ${dir}, mounted at ${inside})`,
            );
        }
    }
}

/**
 * Whether the VM gets the probe: gated (GPU, models, gate on), the probe on, and a workload (services)
 * in the VM, of which the probe is part. A VM without services runs Ollama some other way, with no
 * node-exporter of ours to serve the figures, and the gate alone measures it.
 */
export function probed(vm: VmConfig): boolean {
    const gated = vm.gpu !== undefined && vm.models.length > 0 && vm.throughputGate.enabled;
    return gated && vm.throughputGate.probe.enabled && Object.keys(vm.services).length > 0;
}

/** Every VM whose probe is installed measures its own Ollama and has node-exporter read the figures. */
export function checkProbes(cfg: ParsedConfig, add: Add): void {
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        if (probed(vm)) checkVm(vmName, vm, add);
    }
}
