// The environments' policies, and the builder for the loaded stack.

import { LoadedStack } from "../config/load";
import { EnvironmentPolicies } from "../config/policy";
import { buildEnvironment } from "./build";
import { EnvironmentOutputs } from "./outputs";
import { PRIVATE_POLICY } from "./private";
import { PUBLIC_POLICY } from "./public";

export const POLICIES: EnvironmentPolicies = { private: PRIVATE_POLICY, public: PUBLIC_POLICY };

export function buildStack(stack: LoadedStack): EnvironmentOutputs {
    return buildEnvironment(stack);
}
