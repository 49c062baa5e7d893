// The pack's policies, in one list: policy/index.ts serves them to the engine, and
// tools/policy.ts runs them offline. Importing this file starts nothing.

import type { Policies } from "@pulumi/policy";
import { couldNotCheckPolicy } from "./coverage";
import { gpuPolicies } from "./gpu";
import { gpuContainerPolicies } from "./gpuContainer";
import { cloudInitCoverage, hygienePolicies } from "./hygiene";
import { isolationPolicies } from "./isolation";
import { safetyPolicies } from "./safety";
import { isCovered } from "./util";
import { workflowPolicies } from "./workflows";

export const PACK_NAME = "ai-dualstack";

const rules: Policies = [
    ...isolationPolicies,
    ...gpuPolicies,
    ...gpuContainerPolicies,
    ...safetyPolicies,
    ...hygienePolicies,
    ...workflowPolicies,
];

export const policies: Policies = [...rules, couldNotCheckPolicy(rules.filter(isCovered), [cloudInitCoverage])];
