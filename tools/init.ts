// Reads a Proxmox node over SSH, read-only, and proposes Pulumi.yaml's host facts for it: the GPUs'
// ids, subsystem ids and IOMMU groups, the NVMe disks of the mirrors, the CPU's layout, MemTotal,
// the Proxmox VE major and the bridges' uplink. It shows the diff and writes only after a yes.

import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { Document, isMap, isScalar, parseDocument } from "yaml";
import { NodeConfig } from "../config/schema/host";
import { parseCli, runMain, UsageError } from "./cli";
import { unifiedDiff } from "./init/diff";
import { InitRefusal, Proposal, propose } from "./init/propose";
import { HostFacts, parseReadout, READ_SCRIPT } from "./init/read";
import { setInText } from "./init/yamlEdit";

const USAGE = `Usage: npm run init -- --host <user>@<node> [--node <name>] [--identity <key>] [--yes]

Reads the node over SSH (one read-only script; nothing on the node is written) and proposes
Pulumi.yaml's host facts for it: address, sshUser and sshHostKey; cpu vendor, model, threads and the P-core /
E-core topology; memory.totalGiB (MemTotal); each configured GPU's pciAddress, vendorDeviceId,
subsystemId, iommuGroup and functions; the mirrors' NVMe disks; the bridges' uplink;
proxmox.majorVersion (pveversion). It prints the diff, then writes only with --yes or a yes at
the prompt. What it cannot decide (a card in no gpus entry, a template newer than the default) it
prints as a note.

  --host <user>@<addr>  the node, such as root@192.168.1.10
  --port <n>            SSH port (default 22)
  --node <name>         the nodes key to fill in (default: the only node in Pulumi.yaml)
  --identity <key>      the private key to log in with (default: ssh's own)
  --known-hosts <file>  the known_hosts to check the node's host key against (default: ssh's own)
  --file <path>         the Pulumi.yaml to edit (default: this project's)
  --yes                 write without asking

It refuses a node with IOMMU off, or with a GPU that shares its IOMMU group with a device other
than its own functions and PCI bridges.

Exit status: 0 written or nothing to change (or not confirmed); 1 refused or failed; 2 bad usage.`;

export interface InitOptions {
    user: string;
    address: string;
    port: number;
    node?: string;
    identity?: string;
    knownHosts?: string;
    file: string;
    yes: boolean;
}

export function parseArgs(argv: readonly string[]): InitOptions | "help" {
    let host: string | undefined;
    const opts: Partial<InitOptions> = { port: 22, yes: false, file: path.join(__dirname, "..", "Pulumi.yaml") };
    const value = (i: number, flag: string) => {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
        return v;
    };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (arg === "--help" || arg === "-h") return "help";
        else if (arg === "--yes") opts.yes = true;
        else if (arg === "--host") host = value(i++, arg);
        else if (arg === "--node") opts.node = value(i++, arg);
        else if (arg === "--identity") opts.identity = value(i++, arg);
        else if (arg === "--known-hosts") opts.knownHosts = value(i++, arg);
        else if (arg === "--file") opts.file = value(i++, arg);
        else if (arg === "--port") {
            const port = Number(value(i++, arg));
            if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError("--port takes 1-65535");
            opts.port = port;
        } else throw new UsageError(`unknown argument ${arg}`);
    }
    if (!host) throw new UsageError("name the node: --host root@<address>");
    const m = /^([^@\s]+)@([^@\s]+)$/.exec(host);
    if (!m) throw new UsageError(`--host takes <user>@<address>, such as root@192.168.1.10, not "${host}"`);
    return { ...(opts as InitOptions), user: m[1] as string, address: m[2] as string };
}

/** The ssh arguments: no prompts, no agent forwarded, the read script on stdin. */
export function sshArgs(o: InitOptions): string[] {
    return [
        ...["-p", String(o.port), "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "ForwardAgent=no"],
        ...(o.identity ? ["-i", o.identity, "-o", "IdentitiesOnly=yes"] : []),
        ...(o.knownHosts ? ["-o", `UserKnownHostsFile=${o.knownHosts}`, "-o", "StrictHostKeyChecking=yes"] : []),
        `${o.user}@${o.address}`,
        "bash -s",
    ];
}

/** Runs the read script on the node and parses what it printed. */
export function readNode(o: InitOptions, sshBinary = "ssh"): Promise<HostFacts> {
    return new Promise((resolve, reject) => {
        const child = execFile(
            sshBinary,
            sshArgs(o),
            { timeout: 120_000, maxBuffer: 64 << 20 },
            (err, stdout, stderr) => {
                if (err) {
                    // ssh's last line says what failed ("Host key verification failed.", "Permission denied ...").
                    const detail = (stderr || err.message).trim().split("\n").pop() ?? "";
                    const hint = /Host key verification failed/.test(detail)
                        ? ` (log in once with \`ssh -p ${o.port} ${o.user}@${o.address}\` to check and accept the node's host key)`
                        : "";
                    reject(new Error(`cannot read ${o.user}@${o.address}:${o.port} over SSH: ${detail}${hint}`));
                } else resolve(parseReadout(stdout));
            },
        );
        child.stdin?.end(READ_SCRIPT);
    });
}

const NODES = ["config", "nodes", "value"];

/** The (path, value) pairs of a proposal, as paths from the file's top. */
export function proposalEdits(node: string, p: Proposal): { path: (string | number)[]; value: unknown }[] {
    return [
        ...p.edits.map((e) => ({ path: [...NODES, node, ...e.path], value: e.value })),
        ...(p.majorVersion !== undefined
            ? [{ path: ["config", "proxmox", "value", "majorVersion"], value: p.majorVersion }]
            : []),
    ];
}

/** The node key to fill in: --node, else the only node in the file. */
export function nodeName(doc: Document, requested: string | undefined): string {
    if (requested) return requested;
    const nodes = doc.getIn(NODES);
    const keys = isMap(nodes) ? nodes.items.map((i) => String(isScalar(i.key) ? i.key.value : i.key)) : [];
    if (keys.length === 1) return keys[0] as string;
    throw new UsageError(
        keys.length === 0
            ? "Pulumi.yaml names no node: give --node <name>"
            : `name the node: --node ${keys.join(" or ")}`,
    );
}

/** The before and after of Pulumi.yaml, and the notes, for one node's facts. */
export function proposeFile(
    text: string,
    facts: HostFacts,
    o: Pick<InitOptions, "user" | "address" | "port" | "node">,
): { node: string; before: string; after: string; notes: string[] } {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`Pulumi.yaml does not parse: ${doc.errors[0]?.message}`);
    const node = nodeName(doc, o.node);
    const current = (doc.getIn([...NODES, node]) as { toJSON?: () => unknown } | undefined)?.toJSON?.() as
        Partial<NodeConfig> | undefined;
    const p = propose(facts, current, { address: o.address, user: o.user, port: o.port });
    return { node, before: text, after: setInText(text, proposalEdits(node, p)), notes: p.notes };
}

async function confirm(question: string): Promise<boolean> {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
    rl.close();
    return /^y(es)?$/i.test(answer.trim());
}

export async function main(argv: readonly string[]): Promise<number> {
    const opts = parseCli("init", USAGE, () => parseArgs(argv));
    if (typeof opts === "number") return opts;
    let facts: HostFacts;
    try {
        facts = await readNode(opts);
    } catch (err) {
        console.error(`init: ${(err as Error).message}`);
        return 1;
    }
    let result: ReturnType<typeof proposeFile>;
    try {
        result = proposeFile(fs.readFileSync(opts.file, "utf8"), facts, opts);
    } catch (err) {
        if (err instanceof InitRefusal) {
            console.error(`init: refused, nothing written: ${err.message}`);
            return 1;
        }
        if (err instanceof UsageError) {
            console.error(`init: ${err.message}`);
            return 2;
        }
        throw err;
    }
    const diff = unifiedDiff(result.before, result.after, opts.file);
    for (const note of result.notes) console.log(`note: ${note}`);
    if (diff === "") {
        console.log(`${opts.file}: nodes.${result.node} already matches the node; nothing to write.`);
        return 0;
    }
    console.log(diff);
    const yes = opts.yes || (process.stdin.isTTY && (await confirm(`Write these changes to ${opts.file}? [y/N] `)));
    if (!yes) {
        console.log("Nothing written (run again with --yes to write).");
        return 0;
    }
    fs.writeFileSync(opts.file, result.after);
    console.log(`Wrote nodes.${result.node} to ${opts.file}. Next: npm run plan`);
    return 0;
}

if (require.main === module) runMain(main);
