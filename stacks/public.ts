// The public environment: Mistral 7B on the small GPU, ChromaDB, the agentic chatbot and the
// multi-tenant POC apps. Inbound is denied by default; a guest publishes only the ports it lists
// (the reverse proxy's 80/443), and only trusted networks may administer it.

import { StackConfig } from "../config/load";
import { EnvironmentOutputs, buildEnvironment } from "./shared";

export const PUBLIC_POLICY = {
    environment: "public",
    exposure: "internet-facing: inbound denied by default, open only on the ports a guest lists",
} as const;

export function buildPublicStack(cfg: StackConfig): EnvironmentOutputs {
    return buildEnvironment(cfg, PUBLIC_POLICY);
}
