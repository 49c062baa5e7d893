// The offline plan CLI: what it prints, and how it fails.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main, parseArgs } from "../../tools/plan";
import { main as composeMain } from "../../tools/compose";
import { PROJECT_DIR } from "../../testing/stackFiles";
import { collectPins } from "../../tools/outdatedPins";

/** The tag Pulumi.private.yaml pins for an image, so an image bump (Renovate's too) needs no edit here. */
function privateTag(repo: string): string {
    const pin = collectPins(PROJECT_DIR).find((p) => p.name === repo && p.where.startsWith("Pulumi.private.yaml:"));
    if (!pin) throw new Error(`Pulumi.private.yaml pins no ${repo}`);
    return pin.version;
}

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const log = jest.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
    const error = jest.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
    try {
        const code = await main(argv);
        return { code, out: out.join("\n"), err: err.join("\n") };
    } finally {
        log.mockRestore();
        error.mockRestore();
    }
}

/** A run of `main` whose output several tests read: planned once per file, on first use. */
function shared(argv: string[]): () => ReturnType<typeof capture> {
    let run: ReturnType<typeof capture> | undefined;
    return () => (run ??= capture(argv));
}
const privateTree = shared(["private"]);
const mermaidBoth = shared(["private", "public", "--format", "mermaid"]);

test("the tree shows the inputs that matter and ends with counts and outputs", async () => {
    const { code, out } = await privateTree();
    expect(code).toBe(0);
    expect(out).toContain(
        "proxmoxve:index/vmLegacy:VmLegacy private-ai  VMID 110 on pve1 | 8 cores, NUMA | 48 GiB | GPU mapping private-rtx5090 (pcie) | bridge vmbr1 | disk tank-private 500 GiB | q35/ovmf | restart by hand | protected",
    );
    expect(out).toContain(
        "command:remote:Command private-ai-tune  ssh root@192.168.1.10 | VM 110: pinned 0-7, hugepages 1G (root-only, via qm) | starts it once the host check passes",
    );
    expect(out).toContain("enp5s0.10: VLAN 10 on enp5s0 (pve1)");
    expect(out).toContain("mapping private-rtx5090 → pve1 0000:01:00 (10de:2b85, IOMMU group 14)");
    expect(out).toContain("storage tank-private → pool tankpriv (images, rootdir) on pve1");
    expect(out).toContain("kernel: intel_iommu=on iommu=pt default_hugepagesz=1G hugepagesz=1G hugepages=64");
    expect(out).toContain(
        "pulumi-nodejs:dynamic/ollama:ModelThroughput private-ai-gate-qwen2-5-14b  qwen2.5:14b on rtx5090 via http://10.10.10.10:11434 | at least 50 tokens/s, wholly in VRAM | 3 runs x 128 tokens",
    );
    expect(out).toContain("gate qwen2.5:14b on rtx5090: at least 50 tokens/s, measured by `pulumi up`");
    expect(out).toContain(
        "command:remote:Command private-ai-probe-install  ssh ubuntu@10.10.10.10 | installs the throughput probe (systemd timer, every 60 min): qwen2.5:14b (min 50 tokens/s) via http://10.10.10.10:11434, as the gate measures; metrics to /var/lib/ai-dualstack/textfile/aidualstack_throughput.prom for node-exporter",
    );
    // The backups: the job, the PBS entry, the server's set-up in the backup container, the timers.
    expect(out).toContain(
        "proxmoxve:backup/job:Job private-backups-job  job aids-private: snapshot mode, *-*-* 02:30, to pbs-private | VMIDs 110, 120 | no prune (the PBS prune job keeps the retention)",
    );
    expect(out).toContain(
        "proxmoxve:storage/pbs:Pbs private-backups-pbs  storage pbs-private → PBS 10.10.10.25 datastore private, namespace private, user private-backup@pbs",
    );
    expect(out).toMatch(
        /command:remote:Command private-pbs-server-setup {2}ssh root@10\.10\.10\.25 \| installs Proxmox Backup Server ≥ 3\.4\.1-1 from the container's own suite \(bookworm \(PBS 3\) and trixie \(PBS 4\); release key pinned by fingerprint, never held\)/,
    );
    expect(out).toContain("ssh root@10.10.10.20 | aids-pg-dump timer (*-*-* 01:30): pg_dump of private-postgres");
    expect(out).toContain(
        "  backups: job aids-private (*-*-* 02:30) of private-ai, private-postgres → pbs-private (datastore private, namespace private); docs/backup.md",
    );
    expect(out).toMatch(
        /Resources by type \(107 to create\):\n\s+28 {2}command:remote:Command\n\s+11 {2}docker:index\/container:Container/,
    );
    // The security and CI/CD containers' set-ups: what is installed, where it answers, what it may reach.
    expect(out).toMatch(
        /container private-security: security, CTID 122, 10\.10\.10\.22, udp:\/\/10\.10\.10\.22:51820 \(WireGuard\)/,
    );
    expect(out).toMatch(/set-up over SSH: WireGuard on udp\/10\.10\.10\.22:51820 .*; CrowdSec ≥ 1\.4\.6/);
    expect(out).toContain("WireGuard client configs, without private keys (output vpnClients): laptop, phone");
    expect(out).toMatch(/set-up over SSH: GitHub Actions runner 2\.336\.0 .*labels self-hosted,linux,x64,ai-dualstack/);
    expect(out).toContain("out ACCEPT tcp/8006 to 192.168.1.10");
    expect(out).toMatch(/^ {4}7 {2}proxmoxve:firewall\/optionsLegacy:OptionsLegacy$/m);
    // The shared network and the own ones of rag-answer and searxng (clients: Open WebUI alone).
    expect(out).toMatch(/^ {4}3 {2}docker:index\/network:Network$/m);
    expect(out).toMatch(
        /service searxng: \S+, not reachable from outside the VM; inside it, reached by open-webui alone \(clients\)\n/,
    );
    // Monitoring: the set-up, its URLs, the targets (the public VM's through its route) and the alert count.
    expect(out).toContain("  monitoring: exporters admit 10.10.10.24/32 only");
    expect(out).toContain(
        "    URLs: http://10.10.10.24:9090 http://10.10.10.24:3000 (Alertmanager on the container's loopback)",
    );
    expect(out).toMatch(/^ {4}17 alert rules; targets \(16\):$/m);
    expect(out).toContain(
        "      node public-ai (public, gpu rtx3060): http://10.20.20.10:8480/metrics/node/metrics via trusted-only route",
    );
    // The services of the VM, each with its image and where it is reached.
    const ollama = `ollama/ollama:${privateTag("ollama/ollama")}`;
    expect(out).toContain(`    service ollama: ${ollama}, http://10.10.10.10:11434`);
    expect(out).toContain(
        `    service open-webui: ghcr.io/open-webui/open-webui:${privateTag("ghcr.io/open-webui/open-webui")}, http://10.10.10.10:3000`,
    );
    expect(out).toContain("    Ollama API for this machine: http://10.10.10.10:11434");
    expect(out).toContain(
        `docker:index/container:Container private-ai-workload-ollama  ollama ← ${ollama} | ports 10.10.10.10:11434→11434 | GPU all`,
    );
    expect(out).not.toContain("offline-placeholder-");
    expect(out).toMatch(/^ {4}1 {2}proxmoxve:index\/vmLegacy:VmLegacy$/m);
    expect(out).toContain(
        "vm private-ai: VMID 110 on pve1, 10.10.10.10, GPU rtx5090 (NVIDIA GeForce RTX 5090, 32 GiB, mapping private-rtx5090)",
    );
    expect(out).toContain("note: <name> is not set; the plan uses a placeholder");
    expect(out).not.toContain("BEGIN OPENSSH PRIVATE KEY");
});

test("repeated warnings print once with the count and paths; --summary leaves the tree out", async () => {
    const { code, out } = await capture(["private", "--summary"]);
    expect(code).toBe(0);
    const notes = out.split("\n").filter((l) => l.startsWith("  note: "));
    expect(notes).toContain(
        "  note: <name> is not set; the plan uses a placeholder (set it with `pulumi config set --secret <name>` before `pulumi up`) (3 times; <name>: ai-dualstack:proxmoxApiToken, ai-dualstack:sshPrivateKey, ai-dualstack:serviceSecrets)",
    );
    const guests = [
        "vms.private-ai.cloudInit",
        ...["postgres", "redis", "security"].map((c) => `containers.private-${c}`),
    ];
    const peers = ["laptop", "phone"].map(
        (p) => `ai-dualstack:containers.private-security.wireguard.peers.${p}.publicKey`,
    );
    const keys = [
        ...guests.map((g) => `ai-dualstack:${g}.sshPublicKeys[0]`),
        ...peers,
        ...["cicd", "monitoring", "backup"].map((c) => `ai-dualstack:containers.private-${c}.sshPublicKeys[0]`),
    ];
    expect(notes).toContain(
        `  note: warning: <name>: is the repository's example key, which opens nothing; put your own public key here (\`pulumi up\` refuses it) (9 times; <name>: ${keys.join(", ")})`,
    );
    // Each fact once: no two note lines alike, and the example key's text on one line only.
    expect(new Set(notes).size).toBe(notes.length);
    expect(notes.filter((l) => l.includes("is the repository's example key"))).toHaveLength(1);
    expect(notes).toHaveLength(8);
    // No tree: neither the stack's root nor any branch; the counts and outputs stay.
    expect(out).not.toContain("pulumi:pulumi:Stack");
    expect(out).not.toMatch(/[├└]─/);
    expect(out).toMatch(/Resources by type \(107 to create\):\n\s+28 {2}command:remote:Command/);
    expect(out).toContain("vm private-ai: VMID 110 on pve1, 10.10.10.10");
    // The full plan prints the same notes, then the tree.
    const full = await privateTree();
    expect(full.out.split("\n").filter((l) => l.startsWith("  note: "))).toEqual(notes);
    expect(full.out).toContain("pulumi:pulumi:Stack ai-dualstack-private");
});

test("mermaid: one flowchart for both stacks, grouped host / storage / network / private / public", async () => {
    const { code, out } = await mermaidBoth();
    expect(code).toBe(0);
    const lines = out.split("\n");
    expect(lines[0]).toBe("flowchart TB");
    const subgraphs = lines.filter((l) => l.startsWith("  subgraph")).map((l) => /subgraph (\w+)/.exec(l)?.[1]);
    expect(subgraphs).toEqual(["host", "storage", "network", "private", "public"]);
    expect(out).toContain('["VM 110 private-ai<br/>GPU private-rtx5090"]');
    expect(out).toContain('["VM 210 public-ai<br/>GPU public-rtx3060"]');
    expect(lines.filter((l) => / --> /.test(l)).length).toBeGreaterThan(10);
});

test("mermaid draws what a user would: the VMs' services, monitoring and backup; IP sets as what they stand for", async () => {
    const { code, out } = await mermaidBoth();
    expect(code).toBe(0);
    const lines = out.split("\n");
    const body = (group: string) => {
        const start = lines.findIndex((l) => l.startsWith(`  subgraph ${group}[`));
        expect(start).toBeGreaterThan(0);
        return lines.slice(start + 1, lines.indexOf("  end", start));
    };
    const idOf = (group: string, label: string) => {
        const line = body(group).find((l) => l.includes(`["${label}`));
        expect(line).toBeDefined();
        return /^ {4}(\w+)\[/.exec(line ?? "")?.[1] ?? "";
    };
    // Every service each VM's workload runs, in its environment's box, with the pinned image.
    const privateVm = idOf("private", "VM 110 private-ai");
    for (const [stack, names] of [
        [
            "private",
            [
                "ollama",
                "qdrant",
                "open-webui",
                "documents",
                "rag-ingest",
                "rag-answer",
                "searxng",
                "jupyter",
                "node-exporter",
            ],
        ],
        ["public", ["ollama", "chromadb", "chat", "proxy", "searxng", "node-exporter"]],
    ] as const) {
        for (const name of names) expect(body(stack).some((l) => l.includes(`["service ${name}<br/>`))).toBe(true);
    }
    expect(body("private")).toContain(
        `    ${idOf("private", "service ollama")}["service ollama<br/>ollama/ollama:${privateTag("ollama/ollama")}"]`,
    );
    // A service hangs off its VM through the Docker check and the start (the image pull between is left out).
    const dockerReady = idOf("private", "Docker ready private-ai-workload-docker-ready");
    expect(lines).toContain(`  ${idOf("private", "service ollama")} --> ${dockerReady}`);
    const tune = idOf("private", "pin and start private-ai-tune");
    expect(lines).toContain(`  ${dockerReady} --> ${tune}`);
    expect(lines).toContain(`  ${tune} --> ${privateVm}`);
    // Monitoring and backup: the server set-ups on their containers, the PBS storage, the jobs and timers.
    const monitoring = idOf("private", "monitoring: Prometheus, Alertmanager, Grafana<br/>on 10.10.10.24");
    expect(lines).toContain(`  ${monitoring} --> ${idOf("private", "LXC 124 private-monitoring")}`);
    const pbs = idOf("private", "Proxmox Backup Server<br/>on 10.10.10.25");
    expect(lines).toContain(`  ${pbs} --> ${idOf("private", "LXC 125 private-backup")}`);
    expect(lines).toContain(
        `  ${idOf("private", "backup job aids-private<br/>*-*-* 02:30 → pbs-private")} --> ${idOf("private", "backup storage pbs-private<br/>PBS 10.10.10.25 datastore private")}`,
    );
    expect(body("public").some((l) => l.includes('["backup job aids-public<br/>'))).toBe(true);
    expect(body("public").some((l) => l.includes('["backup storage pbs-public<br/>PBS 10.10.10.25'))).toBe(true);
    expect(body("private").some((l) => l.includes('["aids-pg-dump timer ('))).toBe(true);
    // No IP set by its internal name; the internet set drawn as the internet, once per environment.
    expect(out).not.toMatch(/ipset|IpsetLegacy|aids-(priv|pub)-inet|ipfilter/i);
    expect(body("network").filter((l) => l.includes('["the internet<br/>public IPv4 ('))).toHaveLength(2);
    expect(lines).toContain(
        `  ${idOf("network", "firewall group aids-private")} --> ${body("network")
            .map((l) => /^ {4}(n0_\w+)\["the internet/.exec(l)?.[1])
            .find(Boolean)}`,
    );
});

test("usage errors exit 2 with the usage; an unknown stack exits 1 naming its file; --help exits 0", async () => {
    expect(() => parseArgs([])).toThrow("name a stack");
    expect((await capture(["private", "--format", "dot"])).code).toBe(2);
    const unknown = await capture(["staging"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^Pulumi\.staging\.yaml:1:1: no such stack file in /);
    const help = await capture(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: npm run plan -- <stack>");
    expect(help.out).toContain(
        "--summary          the notes and warnings, the count per resource type and the outputs",
    );
    expect((await capture(["private", "--summary", "--format", "mermaid"])).code).toBe(2);
});

test("end to end: `npm run plan` exits 1 on a bad config, naming the path, and 0 on a good one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-plan-"));
    for (const f of ["Pulumi.yaml", "Pulumi.private.yaml", "Pulumi.public.yaml"])
        fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    const file = path.join(dir, "Pulumi.public.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("gpu: rtx3060", "gpu: rtx5090"));
    const run = (stack: string) =>
        spawnSync("npm", ["run", "-s", "plan", "--", stack, "--project-dir", dir], {
            cwd: PROJECT_DIR,
            encoding: "utf8",
        });
    const bad = run("public");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(
        "ai-dualstack:vms.public-ai.gpu: rtx5090 (NVIDIA GeForce RTX 5090) belongs to the private environment",
    );
    expect(bad.stdout).toBe("");
    const good = run("private");
    expect(good.status).toBe(0);
    expect(good.stdout).toContain("Resources by type");
    // A YAML slip: the file, line and column, exit 1, and no stack trace.
    fs.writeFileSync(
        file,
        fs.readFileSync(file, "utf8").replace("config:\n", "config:\n  ai-dualstack:environment: public\n"),
    );
    const twice = run("public");
    expect(twice.status).toBe(1);
    expect(twice.stderr.trim()).toMatch(
        /^Pulumi\.public\.yaml:\d+:3: this key is set twice in one mapping \(YAML would keep only one\); remove one of them$/,
    );
});

test("compose: writes each VM's docker-compose.yml and env file examples, without a secret", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "aids-compose-out-"));
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
        expect(composeMain(["public", "--out", out])).toBe(0);
    } finally {
        log.mockRestore();
    }
    const compose = fs.readFileSync(path.join(out, "public-ai", "docker-compose.yml"), "utf8");
    expect(compose).toMatch(/^name: public-ai$/m);
    expect(compose).not.toContain("offline-placeholder-");
    expect(fs.readFileSync(path.join(out, "public-ai", "chromadb.env.example"), "utf8")).toBe(
        "CHROMA_SERVER_AUTHN_CREDENTIALS=\n",
    );
    const err = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
        expect(composeMain(["public", "--out"])).toBe(2);
        expect(err.mock.calls[0]?.[0]).toMatch(/^compose: name one stack and a directory after --out/);
    } finally {
        err.mockRestore();
    }
});

test("compose: prints the files when no directory is given", () => {
    const lines: string[] = [];
    const log = jest.spyOn(console, "log").mockImplementation((text: string) => void lines.push(text));
    try {
        expect(composeMain(["private"])).toBe(0);
    } finally {
        log.mockRestore();
    }
    expect(lines.join("\n")).toMatch(/^# ---- private-ai\/docker-compose\.yml\n# private-ai \(private\)/);
});
