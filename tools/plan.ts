// The offline plan: runs the real program for a stack in Pulumi's mock runtime, against that
// stack's files, and prints what `pulumi up` would register. No Proxmox host, no Pulumi CLI.

import type { Unwrap } from "@pulumi/pulumi";
import { ConfigError } from "../config/load";
import { EnvironmentName } from "../config/schema";
import type { EnvironmentOutputs } from "../stacks/outputs";
import { AssumedHosts, PlannedStack, planStack } from "../testing/planStack";
import { StackFileError } from "../testing/stackFiles";
import { countByType, renderMermaid, renderTree, StackRun } from "./planRender";
import { renderMonitoring } from "./planMonitoring";
import { groupNotes } from "./planNotes";
import { formatArg, parseCli, requireStacks, runMain, stackArg, UsageError } from "./cli";

const USAGE = `Usage: npm run plan -- <stack> [<stack>] [--format tree|mermaid] [--summary] [--project-dir DIR]

Prints the offline plan of a stack (private or public): the resource tree with the inputs that
matter (VMID, cores and pinning, memory and hugepages, GPU mapping, bridge, storage), a count per
resource type and the stack outputs. A warning that repeats for several config paths prints once,
with the count and the paths. It runs the program in Pulumi's mock runtime against
Pulumi.yaml and Pulumi.<stack>.yaml: no Proxmox host, no Pulumi CLI, nothing changes.

Options:
  --format tree      the resource tree and counts (default)
  --format mermaid   a Mermaid flowchart grouped host / storage / network / private / public,
                     with each VM's services, monitoring and backup; name both stacks to draw
                     them in one picture
  --summary          the notes and warnings, the count per resource type and the outputs,
                     without the tree
  --project-dir DIR  where Pulumi.yaml and the stack files are (default: this repository)
  --reboot-pending   plan as if every host waited for its reboot (the first \`up\` on a fresh
                     host): the VMs stay stopped, their workloads and gates wait; by default
                     the hosts are assumed ready
  -h, --help         this text

Exit status: 0 planned; 1 the config was rejected (the message names each path and fix, or the
file, line and column: an unknown stack, an unreadable file, a YAML error, a plain-text secret);
2 bad usage.

Examples:
  npm run plan -- private
  npm run plan -- private --summary
  npm run plan -- private public --format mermaid > docs/plan.mmd`;

export interface PlanOptions {
    stacks: string[];
    format: "tree" | "mermaid";
    /** Leave the tree out (tree format only). */
    summary: boolean;
    hosts: AssumedHosts;
    projectDir?: string;
}

export function parseArgs(argv: readonly string[]): PlanOptions | "help" {
    const stacks: string[] = [];
    let format: PlanOptions["format"] = "tree";
    let projectDir: string | undefined;
    let summary = false;
    let hosts: AssumedHosts = "ready";
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (arg === "-h" || arg === "--help") return "help";
        if (arg === "--summary") {
            summary = true;
            continue;
        }
        if (arg === "--reboot-pending") {
            hosts = "reboot-pending";
            continue;
        }
        if (arg === "--project-dir") {
            projectDir = argv[++i];
            if (!projectDir) throw new UsageError("--project-dir takes a directory");
            continue;
        }
        if (arg === "--format" || arg.startsWith("--format=")) {
            const { value, used } = formatArg(arg, argv[i + 1], ["tree", "mermaid"] as const);
            format = value;
            i += used;
        } else {
            stackArg(arg, stacks);
        }
    }
    if (summary && format === "mermaid") throw new UsageError("--summary is for the tree format, not mermaid");
    return { stacks: requireStacks(stacks), format, summary, hosts, ...(projectDir ? { projectDir } : {}) };
}

function renderOutputs(out: Unwrap<EnvironmentOutputs>): string[] {
    const lines = [`Outputs (${out.environment}: ${out.exposure}):`];
    for (const [name, vm] of Object.entries(out.vms)) {
        const gpu = vm.gpu
            ? `GPU ${vm.gpu.name} (${vm.gpu.model}, ${vm.gpu.vramGiB} GiB, mapping ${vm.gpu.mapping})`
            : "no GPU";
        lines.push(
            `  vm ${name}: VMID ${vm.vmid} on ${vm.node}, ${vm.address ?? "address from the guest agent"}, ${gpu}`,
        );
        for (const [svcName, svc] of Object.entries(vm.services)) {
            const urls = svc.urls.length > 0 ? svc.urls.join(" ") : "not reachable from outside the VM";
            const inside = svc.clients ? `; inside it, reached by ${svc.clients.join(", ")} alone (clients)` : "";
            lines.push(`    service ${svcName}: ${svc.image}, ${urls}${inside}`);
        }
        for (const r of vm.routes) {
            lines.push(`    route ${r.from} → ${r.to}: ${r.url} (${r.kind})`);
        }
        if (vm.ollamaEndpoint) lines.push(`    Ollama API for this machine: ${vm.ollamaEndpoint}`);
        if (vm.waitingFor) lines.push(`    workload and gate wait for ${vm.waitingFor}`);
        for (const f of vm.throughput) {
            lines.push(
                `    gate ${f.model} on ${f.gpu}: at least ${f.minTokensPerSecond} tokens/s${f.minEfficiency ? ` and ${f.minEfficiency * 100}% of the roofline` : ""}, measured by \`pulumi up\``,
            );
        }
    }
    for (const [name, lxc] of Object.entries(out.containers)) {
        const endpoints = lxc.endpoints.length > 0 ? `, ${lxc.endpoints.join(" ")}` : "";
        lines.push(`  container ${name}: ${lxc.role}, CTID ${lxc.vmid}, ${lxc.address ?? "dhcp"}${endpoints}`);
        if (lxc.setup) lines.push(`    set-up over SSH: ${lxc.setup}`);
        const clients = Object.keys(lxc.vpnClients ?? {});
        if (clients.length > 0) {
            lines.push(`    WireGuard client configs, without private keys (output vpnClients): ${clients.join(", ")}`);
        }
    }
    if (out.backup) {
        const b = out.backup;
        lines.push(
            `  backups: job ${b.job} (${b.schedule}) of ${b.guests.join(", ") || "no guest"} → ${b.storage} (datastore ${b.datastore}, namespace ${b.namespace}); docs/backup.md`,
        );
        if (b.server)
            lines.push(`    PBS at ${b.server.url}, fingerprint ${b.server.fingerprint ?? "printed by its setup"}`);
    }
    for (const [node, host] of Object.entries(out.hosts)) {
        const state = host.rebootRequired ? `reboot pending (${host.rebootReasons.join("; ")})` : "ready";
        lines.push(`  host ${node}: ${state}, as assumed; \`pulumi preview\` runs the host check on the node`);
    }
    lines.push(...renderMonitoring(out.monitoring));
    return lines;
}

/** The plan as printed: header, grouped notes, the tree (unless `summary`), counts and outputs. */
export function renderPlan(planned: PlannedStack, opts: { summary?: boolean } = {}): string[] {
    const counts = countByType(planned.resources);
    const total = counts.reduce((sum, [, n]) => sum + n, 0);
    return [
        `ai-dualstack offline plan: stack "${planned.stack}" (Pulumi mock runtime: no Proxmox host contacted, nothing changed)`,
        ...groupNotes(planned.notes).map((n) => `  note: ${n}`),
        "",
        ...(opts.summary ? [] : [...renderTree(planned.resources), ""]),
        `Resources by type (${total} to create):`,
        ...counts.map(([type, n]) => `  ${String(n).padStart(3)}  ${type}`),
        "",
        ...(planned.outputs ? renderOutputs(planned.outputs) : []),
    ];
}

export async function main(argv: readonly string[]): Promise<number> {
    const opts = parseCli("plan", USAGE, () => parseArgs(argv));
    if (typeof opts === "number") return opts;
    const runs: StackRun[] = [];
    for (const stack of opts.stacks) {
        let planned: PlannedStack;
        try {
            planned = await planStack(stack, {
                hosts: opts.hosts,
                ...(opts.projectDir ? { projectDir: opts.projectDir } : {}),
            });
        } catch (err) {
            // A config the plan refuses: its message names each path or file:line:col, no stack trace.
            if (err instanceof ConfigError || err instanceof StackFileError) {
                console.error(err.message);
                return 1;
            }
            throw err;
        }
        if (opts.format === "tree") {
            console.log(renderPlan(planned, { summary: opts.summary }).join("\n"));
        }
        runs.push({
            stack,
            environment: (planned.outputs?.environment ?? stack) as EnvironmentName,
            resources: planned.resources,
        });
    }
    if (opts.format === "mermaid") console.log(renderMermaid(runs).join("\n"));
    return 0;
}

if (require.main === module) runMain(main);
