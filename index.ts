// ai-dualstack: one Proxmox server, two GPUs, two AI environments. The program loads the stack's
// config (failing before any resource on a bad one) and builds that environment; `pulumi stack
// select private` or `public` picks which. Its return value is the stack outputs:
//   environment, exposure, vms (id, node, address, GPU, its services with their URLs, the Ollama
//   endpoint), containers (the service LXCs: role, address, endpoints, data setup),
//   hosts (whether the host bootstrap waits on a reboot, and why).

import { loadStackConfig } from "./config/load";
import { POLICIES, buildStack } from "./stacks";

export = () => buildStack(loadStackConfig(POLICIES));
