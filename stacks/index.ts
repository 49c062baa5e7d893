// Picks the stack builder for the configured environment.

import { StackConfig } from "../config/load";
import { EnvironmentName } from "../config/schema";
import { buildPrivateStack } from "./private";
import { buildPublicStack } from "./public";
import { EnvironmentOutputs } from "./shared";

export const STACK_BUILDERS: Readonly<Record<EnvironmentName, (cfg: StackConfig) => EnvironmentOutputs>> = {
    private: buildPrivateStack,
    public: buildPublicStack,
};

export function buildStack(cfg: StackConfig): EnvironmentOutputs {
    return STACK_BUILDERS[cfg.environment](cfg);
}
