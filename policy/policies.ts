// The pack's policies, in one list: policy/index.ts serves them to the engine, and
// tools/policy.ts runs them offline. Importing this file starts nothing.

import type { Policies } from "@pulumi/policy";
import { gpuPolicies } from "./gpu";
import { gpuContainerPolicies } from "./gpuContainer";
import { hygienePolicies } from "./hygiene";
import { isolationPolicies } from "./isolation";
import { safetyPolicies } from "./safety";

export const PACK_NAME = "ai-dualstack";

export const policies: Policies = [
    ...isolationPolicies,
    ...gpuPolicies,
    ...gpuContainerPolicies,
    ...safetyPolicies,
    ...hygienePolicies,
];
