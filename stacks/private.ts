// The private environment: the "second brain". Qwen 2.5 on the big GPU, Qdrant and the personal
// services, reachable only from the LAN and VPN networks in environments.private.network.trustedSources.

import { StackConfig } from "../config/load";
import { EnvironmentOutputs, buildEnvironment } from "./shared";

export const PRIVATE_POLICY = {
    environment: "private",
    exposure: "LAN/VPN only: inbound is denied except from environments.private.network.trustedSources",
} as const;

export function buildPrivateStack(cfg: StackConfig): EnvironmentOutputs {
    return buildEnvironment(cfg, PRIVATE_POLICY);
}
