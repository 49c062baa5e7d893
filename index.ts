// ai-dualstack: one Proxmox server, two GPUs, two AI environments. The program loads the stack's
// config (failing before any resource on a bad one), runs the read-only host check on each node
// (failing, again before any resource, on what a reboot cannot fix) and builds that environment;
// `pulumi stack select private` or `public` picks which. Its return value is the stack outputs:
//   environment, exposure, vms (id, node, address, GPU, its services with their URLs, the Ollama
//   endpoint, and what it waits for while a host reboot is pending), containers (the service LXCs:
//   role, address, endpoints, data setup), hosts (whether a reboot is pending, and why).

import { runProgram } from "./stacks";

export = () => runProgram();
