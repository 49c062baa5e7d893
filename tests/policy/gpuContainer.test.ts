import { publicGpuContainerSharesKernel } from "../../policy/gpuContainer";
import { policies } from "../../policy/policies";
import { lxcInputs, miniStack, rec, T, violations } from "./fixtures";

const gpuContainer = (env: string) =>
    rec(T.lxc, `${env}-ai`, {
        ...lxcInputs(),
        tags: ["ai-dualstack", env, "gpu", "lxc"],
        features: { nesting: true },
        vmId: env === "public" ? 210 : 110,
    });

describe("public-gpu-container-shares-kernel", () => {
    test("is in the pack, advisory", () => {
        const found = policies.find((p) => p.name === "public-gpu-container-shares-kernel");
        expect(found?.enforcementLevel).toBe("advisory");
    });

    test("the miniature public stack (a GPU VM) passes", async () => {
        expect(await violations(publicGpuContainerSharesKernel, miniStack())).toEqual([]);
    });

    test("a public GPU container is reported with the shared-kernel trade-off", async () => {
        expect(await violations(publicGpuContainerSharesKernel, [...miniStack(), gpuContainer("public")])).toEqual([
            "public-gpu-container-shares-kernel: CT 210 is a public GPU container: a kernel or NVIDIA driver bug reachable from its services reaches the host, and from there the private environment",
        ]);
    });

    test("a private GPU container and a public service container are not", async () => {
        expect(
            await violations(publicGpuContainerSharesKernel, [gpuContainer("private"), rec(T.lxc, "p", lxcInputs())]),
        ).toEqual([]);
    });
});
