import { gpuByMapping, gpuVmGated, gpuVmMachine, gpuVmNoProviderRestart, mappingOneVm } from "../../policy/gpu";
import { couldNotCheckPolicy } from "../../policy/coverage";
import { miniStack, rec, T, violations, vmInputs } from "./fixtures";

const vmWith = (patch: Record<string, unknown>) => [rec(T.vm, "public-ai", { ...vmInputs(), ...patch }, true)];

describe("gpu", () => {
    test("the miniature public stack passes every GPU policy", async () => {
        for (const p of [gpuByMapping, gpuVmMachine, gpuVmNoProviderRestart, mappingOneVm, gpuVmGated]) {
            expect(await violations(p, miniStack())).toEqual([]);
        }
    });

    test("a raw PCI id", async () => {
        expect(
            await violations(
                gpuByMapping,
                vmWith({ hostpcis: [{ device: "hostpci0", id: "0000:02:00", pcie: true }] }),
            ),
        ).toEqual(["gpu-by-mapping: hostpcis[0] passes raw PCI id 0000:02:00"]);
    });

    test.each([
        [{ machine: "pc" }, "machine is pc, not q35"],
        [{ bios: "seabios" }, "bios is seabios, not ovmf"],
        // Left out, the provider's defaults apply: pc and seabios.
        [{ machine: undefined }, "machine is unset (the provider's default pc), not q35"],
        [{ bios: undefined }, "bios is unset (the provider's default seabios), not ovmf"],
        [
            { hostpcis: [{ device: "hostpci0", mapping: "m", pcie: false }] },
            "hostpcis[0] is not passed as PCIe (pcie: true)",
        ],
    ])("a GPU VM with %j", async (patch, message) => {
        expect(await violations(gpuVmMachine, vmWith(patch))).toEqual([`gpu-vm-machine: ${message}`]);
    });

    // The provider's VmLegacy.rebootAfterUpdate defaults to true: left out, an update that needs the
    // VM offline restarts the GPU VM, and a card that fails its reset hangs until a power cycle.
    test.each([
        [{ rebootAfterUpdate: undefined }, "rebootAfterUpdate is unset (true), not false"],
        [{ rebootAfterUpdate: true }, "rebootAfterUpdate is true, not false"],
    ])("a GPU VM the provider may restart: %j", async (patch, message) => {
        expect(await violations(gpuVmNoProviderRestart, vmWith(patch))).toEqual([
            `gpu-vm-no-provider-restart: ${message}`,
        ]);
        expect(await violations(gpuVmNoProviderRestart, vmWith({ ...patch, hostpcis: [] }))).toEqual([]);
    });

    // The provider's VmLegacy.reboot (after creation) defaults to false: set, it restarts the GPU VM right after
    // creating it, with the card's reset, before anything was proven.
    test("a GPU VM the provider restarts after creating it", async () => {
        expect(await violations(gpuVmNoProviderRestart, vmWith({ reboot: true }))).toEqual([
            "gpu-vm-no-provider-restart: reboot is true: the provider restarts the VM after creating it",
        ]);
        expect(await violations(gpuVmNoProviderRestart, vmWith({ reboot: false }))).toEqual([]);
        expect(await violations(gpuVmNoProviderRestart, vmWith({ reboot: true, hostpcis: [] }))).toEqual([]);
    });

    test("a VM without a GPU may use any machine", async () => {
        expect(await violations(gpuVmMachine, vmWith({ hostpcis: [], machine: "pc", bios: "seabios" }))).toEqual([]);
    });

    test("a mapping used by two VMs, and one used by none", async () => {
        const stack = [
            ...miniStack(),
            rec(T.vm, "public-ai-2", { ...vmInputs(), name: "public-ai-2", vmId: 211 }, true),
            rec(T.pci, "spare", { name: "spare-gpu" }),
        ];
        expect(await violations(mappingOneVm, stack)).toEqual([
            "pci-mapping-one-vm: mapping public-rtx3060 is used by 2 VMs: public-ai, public-ai-2",
            "pci-mapping-one-vm: mapping spare-gpu is used by 0 VMs",
        ]);
    });

    test("a VM using an undeclared mapping", async () => {
        const stack = miniStack().filter((r) => r.type !== T.pci);
        expect(await violations(mappingOneVm, stack)).toEqual([
            "pci-mapping-one-vm: public-ai uses mapping public-rtx3060, which this stack does not declare",
        ]);
    });

    test("a GPU VM without a throughput gate", async () => {
        const stack = miniStack().filter((r) => r.type !== T.gate);
        expect(await violations(gpuVmGated, stack)).toEqual([
            "gpu-vm-has-throughput-gate: public-ai (10.20.20.10) has no ModelThroughput gate",
        ]);
    });

    test("a gate pointed at another address", async () => {
        const stack = miniStack().map((r) =>
            r.type === T.gate ? rec(T.gate, r.name, { endpoint: "http://10.20.20.99:11434" }) : r,
        );
        expect(await violations(gpuVmGated, stack)).toEqual([
            "gpu-vm-has-throughput-gate: public-ai (10.20.20.10) has no ModelThroughput gate",
        ]);
    });

    test("what the gate and mapping rules cannot match is reported as unchecked, not passed", async () => {
        const stack = miniStack().map((r) =>
            r.type === T.gate
                ? rec(T.gate, r.name, { endpoint: "10.20.20.10:8480" })
                : r.type === T.pci
                  ? rec(T.pci, r.name, { maps: [] })
                  : r,
        );
        const covered = couldNotCheckPolicy([gpuVmGated, mappingOneVm]);
        expect(await violations(gpuVmGated, stack)).toEqual([]);
        expect(await violations(covered, stack)).toEqual([
            "policy-could-not-check: gpu-vm-has-throughput-gate could not check public-ai-gate: its endpoint is not a URL",
            "policy-could-not-check: pci-mapping-one-vm could not check public-ai-gpu has no name, so no VM can be matched to it",
        ]);
        const dhcp = miniStack().map((r) =>
            r.type === T.vm ? rec(T.vm, r.name, { ...vmInputs(), initialization: { ipConfigs: [{}] } }, true) : r,
        );
        expect(await violations(gpuVmGated, dhcp)).toEqual([]);
        expect(await violations(covered, dhcp)).toEqual([
            "policy-could-not-check: gpu-vm-has-throughput-gate could not check public-ai has no static IPv4 address to match a gate's endpoint",
        ]);
    });
});
