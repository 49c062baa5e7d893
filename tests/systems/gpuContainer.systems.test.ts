// The GPU container's set-up (issue 24), booted: the script `up` sends to the public container form's
// 10.20.20.10 runs on Debian 13 (Proxmox VE 9's default container template) twice, up to the step that
// needs NVIDIA's servers: those are out of reach here, so both runs stop there with a message naming
// the source, having installed the base (Docker, the login user, its keys) once; the second changes
// nothing. The card itself (nvidia-smi) is not checkable here.

import { startLab, Lab } from "../../testing/booted/lab";
import { BootedSystem, bootSystem } from "../../testing/booted/system";
import { setupNamed } from "../../testing/booted/setups";
import { CONTAINER_DRIVER_VERSION, publicAsContainer } from "../../testing/gpuContainerStack";
import { PlannedStack, planStack } from "../../testing/planStack";
import { describeBooted, runTwice } from "./helpers";

const ADDRESS = "10.20.20.10";
const URL = `https://us.download.nvidia.com/XFree86/Linux-x86_64/${CONTAINER_DRIVER_VERSION}/NVIDIA-Linux-x86_64-${CONTAINER_DRIVER_VERSION}.run`;

describeBooted("the public GPU container's set-up, booted on Debian 13", () => {
    let l: Lab;
    let system: BootedSystem;
    let plan: PlannedStack;
    beforeAll(async () => {
        plan = await planStack("public", { overrides: publicAsContainer() });
        l = startLab([{ gateway: "10.20.20.1", prefix: 24 }]);
        system = await bootSystem(l, {
            suite: "trixie",
            address: ADDRESS,
            prefix: 24,
            gateway: "10.20.20.1",
            hostname: "public-ai",
        });
    }, 180_000);
    afterAll(async () => {
        await system?.stop();
        l?.stop();
    }, 60_000);

    test("runs up to NVIDIA's download, which it names, and a second run changes nothing", async () => {
        const setup = setupNamed(plan, ADDRESS, "public-ai-setup");
        const cannot = `cannot download the NVIDIA driver ${CONTAINER_DRIVER_VERSION} from ${URL}`;
        const { first, changes } = await runTwice(system, [setup], {
            expect: { "public-ai-setup": new RegExp(cannot.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")) },
        });
        // curl's own reason comes first (here: no name resolution for NVIDIA's host), then the script's.
        const stderr = first.get("public-ai-setup")?.stderr.trim().split("\n") ?? [];
        expect(stderr[stderr.length - 1]).toBe(
            `ai-dualstack gpu-container: ERROR: ${cannot}: is https://us.download.nvidia.com reachable from the container (the public firewall lets out web traffic to the internet)? Nothing was installed`,
        );
        expect(changes).toEqual([]);
        // What ran before the download: the base a VM gets from cloud-init.
        expect(await system.sh("id -nG ubuntu")).toMatch(/\bdocker\b/);
        expect(await system.sh("cat /home/ubuntu/.ssh/authorized_keys")).toContain("ssh-ed25519 ");
        expect(await system.sh("dpkg-query -W -f='${Status}' docker.io")).toBe("install ok installed");
        expect(await system.sh("test -e /var/lib/ai-dualstack/nvidia-userspace || echo absent")).toBe("absent\n");
    }, 900_000);
});
