// One line per resource for the offline plan: the inputs that matter, chosen by the resource's class.
// Commands run scripts; what a script does comes from the component that built it (describe.ts),
// never from reading the bash back.

import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { ModelThroughput } from "../providers/ollama/modelThroughput";
import { RecordedResource } from "../testing/mockRuntime";

type Inputs = Record<string, unknown>;
type ResourceClass = abstract new (...args: never[]) => unknown;

export const str = (v: unknown): string =>
    typeof v === "string" || typeof v === "number" || typeof v === "boolean"
        ? String(v)
        : v === undefined || v === null
          ? "?"
          : JSON.stringify(v);
export const obj = (v: unknown): Inputs => (v !== null && typeof v === "object" ? (v as Inputs) : {});
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const gib = (mib: unknown): string => `${Number(mib) / 1024} GiB`;

function commandLine(i: Inputs, r: RecordedResource): string {
    const conn = obj(i["connection"]);
    const ssh = `ssh ${str(conn["user"])}@${str(conn["host"])}`;
    return r.description ? `${ssh} | ${r.description}` : ssh;
}

/** One firewall rule: direction, action, what, and from or to whom. */
function ruleText(rule: Inputs): string {
    const what = rule["macro"]
        ? str(rule["macro"])
        : rule["proto"]
          ? `${str(rule["proto"])}/${str(rule["dport"])}`
          : "all";
    const peer = rule["type"] === "out" ? `to ${str(rule["dest"] ?? "any")}` : `from ${str(rule["source"] ?? "any")}`;
    return `${rule["type"] === "out" ? "out " : ""}${str(rule["action"])} ${what} ${peer}`;
}

function firewallGroup(i: Inputs): string {
    return `group ${str(i["name"])}: ${arr(i["rules"])
        .map((x) => ruleText(obj(x)))
        .join("; ")}`;
}

function ipsetLine(i: Inputs): string {
    const cidrs = arr(i["cidrs"]).map(obj);
    const plain = cidrs.filter((c) => !c["nomatch"]).map((c) => str(c["name"]));
    const except = cidrs.filter((c) => c["nomatch"]).map((c) => str(c["name"]));
    const where =
        i["vmId"] !== undefined
            ? ` on VM ${str(i["vmId"])}`
            : i["containerId"] !== undefined
              ? ` on CT ${str(i["containerId"])}`
              : " (cluster)";
    return `IP set ${str(i["name"])}${where}: ${plain.join(", ")}${except.length > 0 ? ` except ${except.join(", ")}` : ""}`;
}

function vmLine(i: Inputs, r: RecordedResource): string {
    const cpu = obj(i["cpu"]);
    const disk = obj(arr(i["disks"])[0]);
    const pci = arr(i["hostpcis"]).map(obj);
    return [
        `VMID ${str(i["vmId"])} on ${str(i["nodeName"])}`,
        `${str(cpu["cores"])} cores${cpu["numa"] ? ", NUMA" : ""}`,
        gib(obj(i["memory"])["dedicated"]),
        pci.length > 0
            ? `GPU mapping ${pci.map((p) => `${str(p["mapping"])}${p["pcie"] ? " (pcie)" : ""}`).join(", ")}`
            : "no GPU",
        `bridge ${str(obj(arr(i["networkDevices"])[0])["bridge"])}`,
        `disk ${str(disk["datastoreId"])} ${str(disk["size"])} GiB`,
        `${str(i["machine"])}/${str(i["bios"])}`,
        // A change Proxmox applies only at the next start waits for the user (rebootAfterUpdate: false).
        i["rebootAfterUpdate"] === false ? "restart by hand" : "the provider may restart it",
        r.protect ? "protected" : "not protected",
    ].join(" | ");
}

function backupJobLine(i: Inputs, r: RecordedResource): string {
    const keep = obj(i["pruneBackups"]);
    return [
        `job ${str(i["resourceId"])}: ${str(i["mode"])} mode, ${str(i["schedule"])}, to ${str(i["storage"])}`,
        `VMIDs ${arr(i["vmids"]).map(str).join(", ") || "none"}`,
        Object.keys(keep).length === 0
            ? "no prune (the PBS prune job keeps the retention)"
            : `keep ${Object.entries(keep)
                  .map(([k, v]) => `${k.replace("keep-", "")} ${str(v)}`)
                  .join(", ")}`,
        ...(r.description ? [r.description] : []),
    ].join(" | ");
}

function containerLine(i: Inputs, r: RecordedResource): string {
    const disk = obj(i["disk"]);
    return [
        `CTID ${str(i["vmId"])} on ${str(i["nodeName"])}`,
        `${str(obj(i["cpu"])["cores"])} cores`,
        gib(obj(i["memory"])["dedicated"]),
        `bridge ${str(obj(arr(i["networkInterfaces"])[0])["bridge"])}`,
        `disk ${str(disk["datastoreId"])} ${str(disk["size"])} GiB`,
        ...arr(i["mountPoints"])
            .map(obj)
            .map(
                (m) =>
                    `mount ${str(m["path"])} ← ${str(m["volume"])} ${str(m["size"])}${m["backup"] === false ? " (not in its backup)" : ""}`,
            ),
        `${i["unprivileged"] ? "unprivileged" : "PRIVILEGED"}, nesting ${obj(i["features"])["nesting"] ? "on" : "off"}`,
        r.protect ? "protected" : "not protected",
    ].join(" | ");
}

function dockerContainerLine(i: Inputs, r: RecordedResource): string {
    const ports = arr(i["ports"])
        .map(obj)
        .map((p) => `${str(p["ip"])}:${str(p["external"])}→${str(p["internal"])}`);
    const health = arr(obj(i["healthcheck"])["tests"]).map(str).join(" ");
    const limits = [
        i["cpus"] !== undefined ? `${str(i["cpus"])} CPUs` : "",
        i["memory"] !== undefined ? gib(i["memory"]) : "",
    ].filter((x) => x !== "");
    return [
        `${str(i["name"])} ← ${str(i["image"])}`,
        ports.length > 0 ? `ports ${ports.join(", ")}` : "no published port",
        ...(i["gpus"] !== undefined ? [`GPU ${str(i["gpus"])}`] : []),
        ...(limits.length > 0 ? [`limit ${limits.join(", ")}`] : []),
        `health: ${health}`,
        `restart ${str(i["restart"])}`,
        ...(r.secretInputs.includes("envs") ? ["env with secrets (hidden)"] : []),
    ].join(" | ");
}

function gateLine(i: Inputs): string {
    const digest = i["digest"] ? `@${str(i["digest"]).slice(0, 19)}` : "";
    return [
        `${str(i["model"])}${digest} on ${str(obj(i["gpu"])["name"])} via ${str(i["endpoint"])}`,
        `at least ${str(i["minTokensPerSecond"])} tokens/s${i["minEfficiency"] ? ` and ${Number(i["minEfficiency"]) * 100}% of the roofline` : ""}${i["requireGpu"] === false ? "" : ", wholly in VRAM"}`,
        `${str(i["runs"])} runs x ${str(i["numPredict"])} tokens`,
    ].join(" | ");
}

const rulesLine = (i: Inputs) =>
    arr(i["rules"])
        .map((x) => {
            const rule = obj(x);
            return rule["securityGroup"] ? `group ${str(rule["securityGroup"])}` : ruleText(rule);
        })
        .join("; ");

/** The summary of each class the program registers; a class not listed here gets no summary. */
const SUMMARIES: readonly [ResourceClass, (i: Inputs, r: RecordedResource) => string][] = [
    // Provider inputs reach the engine as strings.
    [
        proxmoxve.Provider,
        (i) =>
            `endpoint ${str(i["endpoint"])}, TLS ${String(i["insecure"]) === "true" ? "NOT verified" : "verified"}, token auth`,
    ],
    [command.remote.Command, commandLine],
    [
        proxmoxve.node.disk.Zfs,
        (i) =>
            `pool ${str(i["name"])} on ${str(i["nodeName"])}: ${str(i["raidlevel"])} of ${arr(i["devices"]).length} disks, ashift ${str(i["ashift"])}, ${str(i["compression"])}`,
    ],
    [
        proxmoxve.storage.Zfspool,
        (i) =>
            `storage ${str(i["resourceId"])} → pool ${str(i["zfsPool"])} (${arr(i["contents"]).join(", ")}) on ${arr(i["nodes"]).join(", ")}`,
    ],
    [
        proxmoxve.network.linux.Vlan,
        (i) => {
            const [uplink, tag] = str(i["name"]).split(".");
            return `${str(i["name"])}: VLAN ${tag ?? "?"} on ${uplink ?? "?"} (${str(i["nodeName"])})`;
        },
    ],
    [
        proxmoxve.network.linux.Bridge,
        (i) =>
            `${str(i["name"])} on ${str(i["nodeName"])}, ports ${arr(i["ports"]).join(",") || "none (host-internal)"}, no host address`,
    ],
    [proxmoxve.cluster.firewall.security.GroupLegacy, firewallGroup],
    [
        proxmoxve.download.File,
        (i) =>
            `${str(i["contentType"])} ${str(i["datastoreId"])}:${str(i["fileName"])} ← ${str(i["url"])}${i["checksum"] ? ` (${str(i["checksumAlgorithm"])} checked)` : ""}`,
    ],
    [
        proxmoxve.FileLegacy,
        (i) => `${str(i["contentType"])} ${str(i["datastoreId"])}:${str(obj(i["sourceRaw"])["fileName"])}`,
    ],
    [
        proxmoxve.hardware.mapping.Pci,
        (i) => {
            const map = obj(arr(i["maps"])[0]);
            return `mapping ${str(i["name"])} → ${str(map["node"])} ${str(map["path"])} (${str(map["id"])}, IOMMU group ${str(map["iommuGroup"])})`;
        },
    ],
    [
        proxmoxve.storage.Pbs,
        (i) =>
            `storage ${str(i["resourceId"])} → PBS ${str(i["server"])} datastore ${str(i["datastore"])}, namespace ${str(i["namespace"])}, user ${str(i["username"])}, fingerprint ${i["fingerprint"] ? "pinned" : "from the server's setup"} (${arr(i["contents"]).join(", ")})`,
    ],
    [proxmoxve.backup.Job, backupJobLine],
    [proxmoxve.VmLegacy, vmLine],
    [proxmoxve.ContainerLegacy, containerLine],
    [docker.Provider, (i) => `Docker at ${str(i["host"])}`],
    [docker.RemoteImage, (i) => `pull ${str(i["name"])}`],
    [docker.Network, (i) => `network ${str(i["name"])} (${str(i["driver"])})`],
    [docker.Volume, (i) => `volume ${str(i["name"])}`],
    [docker.Container, dockerContainerLine],
    [
        proxmoxve.firewall.OptionsLegacy,
        (i) =>
            `firewall ${i["enabled"] ? "on" : "off"}: inbound ${str(i["inputPolicy"])}, outbound ${str(i["outputPolicy"])}${i["ipfilter"] ? ", ipfilter" : ""}`,
    ],
    [proxmoxve.firewall.RulesLegacy, rulesLine],
    [proxmoxve.firewall.IpsetLegacy, ipsetLine],
    [ModelThroughput, gateLine],
];

/** One line of the inputs that matter for a resource. */
export function summarize(r: RecordedResource): string {
    const entry = SUMMARIES.find(([cls]) => r.resource instanceof cls);
    return entry ? entry[1](r.inputs, r) : "";
}
