// The public environment as a GPU container (issue 24), planned under strict mocks: an unprivileged
// LXC with nesting and the card's device nodes, no vfio id and no PCI mapping for the 3060, the gate
// and the probe on the container's address, a warning in the plan; and the VM form untouched.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { ModelThroughput } from "../../providers/ollama/modelThroughput";
import { CONTAINER_DRIVER_VERSION, publicAsContainer } from "../../testing/gpuContainerStack";
import { planStack } from "../../testing/planStack";
import { makeSandbox, shellcheckScripts, validator } from "../helpers/sandbox";
import { one, ofType } from "../helpers/pulumi";

let pub: Awaited<ReturnType<typeof planStack>>;
let priv: Awaited<ReturnType<typeof planStack>>;

beforeAll(async () => {
    const overrides = publicAsContainer();
    pub = await planStack("public", { overrides });
    // The private stack reads the same shared facts: it must write the same host-wide vfio ids.
    priv = await planStack("private", { overrides: { nodes: overrides["nodes"] } });
});

const stdinOf = (name: string) => {
    const cmd = ofType(pub.resources, command.remote.Command).find((r) => r.name === name);
    if (!cmd) throw new Error(`no command ${name}`);
    return String(cmd.inputs["stdin"]);
};

test("public-ai is an unprivileged LXC with nesting on the public bridge, and no VM or PCI mapping is left", () => {
    const ct = one(pub.resources, proxmoxve.ContainerLegacy, "public-ai");
    expect(ct.inputs).toMatchObject({
        vmId: 210,
        unprivileged: true,
        features: { nesting: true },
        tags: ["ai-dualstack", "gpu", "lxc", "public"],
        cpu: { cores: 8 },
        memory: { dedicated: 16384 },
        networkInterfaces: [{ bridge: "vmbr2", firewall: true, name: "eth0" }],
        initialization: { ipConfigs: [{ ipv4: { address: "10.20.20.10/24", gateway: "10.20.20.1" } }] },
    });
    expect(ofType(pub.resources, proxmoxve.VmLegacy)).toEqual([]);
    expect(ofType(pub.resources, proxmoxve.hardware.mapping.Pci)).toEqual([]);
    // The template is the containers' Debian one: downloaded beside the service containers' templates.
    expect(JSON.stringify(ct.inputs["operatingSystem"])).toContain("vztmpl");
});

test("the start command passes the 3060's device nodes through (by its minor) and pins the container", () => {
    const script = stdinOf("public-ai-start");
    expect(script).toContain("AIDS_GPU_ADDRESS='0000:02:00.0'");
    expect(script).toContain(`AIDS_DRIVER_VERSION='${CONTAINER_DRIVER_VERSION}'`);
    expect(script).toContain("AIDS_CPUS='16-23'");
    // The rendered script, run on a fake node whose nvidia driver numbered the 3060 minor 1.
    const sb = makeSandbox([
        {
            address: "0000:02:00.0",
            vendorDeviceId: "10de:2504",
            subsystemId: "1462:397d",
            iommuGroup: 15,
            driver: "nvidia",
        },
    ]);
    sb.write(
        "proc/driver/nvidia/version",
        `NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  ${CONTAINER_DRIVER_VERSION}  Release Build  (dvs-builder@U16)  Tue Apr  1 00:00:00 UTC 2025\n`,
    );
    sb.write(
        "proc/driver/nvidia/gpus/0000:02:00.0/information",
        "Model: \t\t NVIDIA GeForce RTX 3060\nDevice Minor: \t 1\n",
    );
    for (const dev of [
        "nvidia1",
        "nvidiactl",
        "nvidia-uvm",
        "nvidia-uvm-tools",
        "nvidia-caps/nvidia-cap1",
        "nvidia-caps/nvidia-cap2",
    ]) {
        sb.write(`dev/${dev}`, "");
    }
    sb.write("etc/pve/lxc/210.conf", "arch: amd64\n");
    const first = sb.run(script);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(sb.calls()).toEqual([
        "pct config 210 --current",
        "pct set 210 --dev0 /dev/nvidia1 --dev1 /dev/nvidiactl --dev2 /dev/nvidia-uvm --dev3 /dev/nvidia-uvm-tools --dev4 /dev/nvidia-caps/nvidia-cap1 --dev5 /dev/nvidia-caps/nvidia-cap2",
        // Running? (the devices' note, the pinning, the start)
        "pct status 210",
        "pct status 210",
        "pct status 210",
        "pct start 210",
    ]);
    expect(sb.read("etc/pve/lxc/210.conf")).toContain("lxc.cgroup2.cpuset.cpus: 16-23");
    // Once set, a second run changes nothing.
    sb.write(
        "pct-config",
        "dev0: /dev/nvidia1\ndev1: /dev/nvidiactl\ndev2: /dev/nvidia-uvm\ndev3: /dev/nvidia-uvm-tools\ndev4: /dev/nvidia-caps/nvidia-cap1\ndev5: /dev/nvidia-caps/nvidia-cap2\n",
    );
    sb.write("pct-status", "status: running\n");
    sb.clearCalls();
    expect(sb.run(script).status).toBe(0);
    expect(sb.calls().filter((c) => c.startsWith("pct set") || c.startsWith("pct start"))).toEqual([]);
});

test("the start refuses a card still on vfio-pci and a host driver of another version", () => {
    const script = stdinOf("public-ai-start");
    const sb = makeSandbox([
        {
            address: "0000:02:00.0",
            vendorDeviceId: "10de:2504",
            subsystemId: "1462:397d",
            iommuGroup: 15,
            driver: "vfio-pci",
        },
    ]);
    const run = sb.run(script);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
        "ai-dualstack: CT 210: ERROR: rtx3060 (0000:02:00.0) is bound to vfio-pci, not the host's nvidia driver; reboot the node after the bootstrap\n",
    );
    sb.bind("0000:02:00.0", "nvidia");
    sb.write(
        "proc/driver/nvidia/version",
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.195.03  Release Build  (x)  Tue\n",
    );
    expect(sb.run(script).stderr).toBe(
        `ai-dualstack: CT 210: ERROR: the node runs NVIDIA driver 570.195.03, but nodes.<node>.nvidiaDriver.version says ${CONTAINER_DRIVER_VERSION}; the container's userspace must match the loaded module (reboot after a driver upgrade, or fix the version)\n`,
    );
});

test("the set-up installs the host driver's userspace without its kernel module, and the toolkit with no-cgroups", () => {
    const script = stdinOf("public-ai-setup");
    expect(script).toContain(
        `AIDS_DRIVER_URL='https://us.download.nvidia.com/XFree86/Linux-x86_64/${CONTAINER_DRIVER_VERSION}/NVIDIA-Linux-x86_64-${CONTAINER_DRIVER_VERSION}.run'`,
    );
    expect(script).toContain("--no-kernel-module");
    expect(script).toContain("nvidia-container-cli.no-cgroups=true");
    expect(script).toContain("AIDS_USER='ubuntu'");
});

test("the host bootstrap leaves the 3060 out of the vfio ids in both stacks, and installs the host driver", () => {
    const bootstraps = [pub, priv].map((plan) => {
        const cmd = ofType(plan.resources, command.remote.Command).find((r) => r.name.endsWith("-bootstrap"));
        return String(cmd?.inputs["stdin"]);
    });
    for (const script of bootstraps) {
        // The 5090 and its audio function only: neither 10de:2504 nor the 3060's audio 10de:228e.
        expect(script).toContain("AIDS_VFIO_IDS='10de:22e8,10de:2b85'");
        expect(script).toContain(`AIDS_NVIDIA_VERSION='${CONTAINER_DRIVER_VERSION}'`);
        expect(script).toContain("AIDS_BLACKLIST='nouveau nvidiafb'");
        expect(script).toContain("AIDS_SOFTDEPS='nouveau nvidia nvidiafb nvidia_drm nvidia_modeset'");
    }
});

test("the gate and the probe reach Ollama on the container's address, after its set-up", () => {
    const gate = one(pub.resources, ModelThroughput);
    expect(gate.inputs).toMatchObject({
        endpoint: "http://10.20.20.10:8480",
        model: "mistral:7b",
        gpu: { name: "rtx3060", vramGiB: 12, memoryBandwidthGBs: 360 },
    });
    expect(pub.outputs?.vms["public-ai"]).toMatchObject({ vmid: 210, gpu: { name: "rtx3060" } });
});

test("the plan warns that the public GPU guest shares the host's kernel", () => {
    expect(pub.notes).toContain(
        "warning: ai-dualstack:vms.public-ai.kind: the internet-facing GPU guest is a container, which shares the Proxmox host's kernel: an escape from it (a kernel or NVIDIA driver bug reachable from inside) lands on the host, next to the private environment; a VM (kind: vm, the default) keeps it inside the VM (docs/security.md)",
    );
    expect(priv.notes.filter((n) => n.includes("shares the Proxmox host's kernel"))).toEqual([]);
    // It boots Proxmox's template (checksummed), so the VM's cloud image is no placeholder to fix.
    expect(pub.notes.filter((n) => n.includes("vms.public-ai.image"))).toEqual([]);
});

test("backups and monitoring take the container as they took the VM", () => {
    const job = ofType(pub.resources, proxmoxve.backup.Job)[0];
    expect(job?.inputs["vmids"]).toEqual(["210", "220"]);
    expect(pub.outputs?.vms["public-ai"]).toMatchObject({ address: "10.20.20.10" });
});

test("before the reboot that moves the card, the container is created but neither given the card nor set up", async () => {
    const waiting = await planStack("public", { overrides: publicAsContainer(), hosts: "reboot-pending" });
    const start = ofType(waiting.resources, command.remote.Command).find((r) => r.name === "public-ai-start");
    expect(String(start?.inputs["stdin"])).toContain("AIDS_READY='0'");
    const names = waiting.resources.map((r) => r.name);
    expect(names).toContain("public-ai");
    expect(names.filter((n) => /^public-ai-(setup|workload|gate|probe)/.test(n))).toEqual([]);
});

test("the private environment may use either kind: the 5090 as a container under a 570 driver, without a warning", async () => {
    const nodes = structuredClone(publicAsContainer()["nodes"]) as Record<string, Record<string, unknown>>;
    const pve1 = nodes["pve1"] as { gpus: Record<string, Record<string, unknown>>; nvidiaDriver: unknown };
    (pve1.gpus["rtx5090"] as Record<string, unknown>)["guest"] = "container";
    pve1.nvidiaDriver = { version: "570.195.03" };
    const allocations = (pve1 as unknown as { allocations: Record<string, Record<string, unknown>> }).allocations;
    (allocations["private"] as Record<string, unknown>)["hugepagesGiB"] = 0;
    const plan = await planStack("private", { overrides: { nodes } });
    expect(one(plan.resources, proxmoxve.ContainerLegacy, "private-ai").inputs).toMatchObject({
        unprivileged: true,
        features: { nesting: true },
        tags: ["ai-dualstack", "gpu", "lxc", "private"],
    });
    expect(plan.notes.filter((n) => n.includes("kind"))).toEqual([]);
});

const shellcheck = validator("shellcheck");
(shellcheck ? test : test.skip)("shellcheck finds nothing in the container's scripts as planned", () => {
    expect(() =>
        shellcheckScripts(shellcheck as string, {
            "start.sh": stdinOf("public-ai-start"),
            "setup.sh": stdinOf("public-ai-setup"),
        }),
    ).not.toThrow();
});
