// Every cross-field rule, run on the schema-checked config before anything is resolved or built.
// Each finding names its config path and the fix; plain functions, tested without Pulumi.

import { EnvironmentPolicies } from "../policy";
import { EnvironmentName, ParsedConfig } from "../schema";
import { checkBackups } from "./backup";
import { checkClients } from "./clients";
import { checkModels } from "./gate";
import { guestsOf } from "./guests";
import { checkGpuDrivers, checkGpuGuests } from "./gpuGuests";
import { checkHardware } from "./hardware";
import {
    checkDataIsolation,
    checkDockerSocket,
    checkEnvironmentsApart,
    checkGpuIsolation,
    checkGuestIsolation,
    checkPublishedSources,
    checkPublishing,
} from "./isolation";
import { ConfigIssue, collect } from "./issues";
import { checkSecretsSet } from "./secrets";
import { checkRoleSetups } from "./security";
import { checkMonitoring } from "./monitoring";
import { checkCapacity, checkGpuPlacement, checkGuestPlacement, checkIdentities, checkRanges } from "./placement";
import { checkProbes } from "./probe";
import { checkHybridPinning, checkTopology } from "./topology";
import { checkWorkloads } from "./workload";

export type { ConfigIssue } from "./issues";

/**
 * `secretNames`: the keys of serviceSecrets, or undefined when that key is malformed (reported
 * elsewhere), in which case the services' references to it are not checked.
 */
export function checkConfig(
    cfg: ParsedConfig,
    env: EnvironmentName,
    policies: EnvironmentPolicies,
    secretNames: ReadonlySet<string> | undefined,
): ConfigIssue[] {
    const policy = policies[env];
    return collect((add) => {
        // Shared host facts (Pulumi.yaml): the same verdict for either stack.
        checkRanges(cfg, add);
        checkEnvironmentsApart(cfg, policies, add);
        checkHardware(cfg, add);
        checkGpuDrivers(cfg, add);
        checkTopology(cfg, add);
        // This stack's guests, seen from its environment.
        const guests = guestsOf(cfg);
        checkIdentities(cfg, env, guests, add);
        for (const g of guests) {
            checkGuestPlacement(cfg, env, g, add);
            checkGuestIsolation(cfg, policy, g, add);
        }
        checkGpuPlacement(cfg, add);
        checkGpuIsolation(cfg, env, add);
        checkGpuGuests(cfg, add);
        checkModels(cfg, add);
        checkProbes(cfg, add);
        checkCapacity(cfg, env, guests, add);
        checkHybridPinning(cfg, add);
        checkWorkloads(cfg, env, add);
        checkClients(cfg, add);
        checkPublishing(cfg, policy, add);
        checkPublishedSources(cfg, policy, add);
        checkDockerSocket(cfg, policy, add);
        checkDataIsolation(cfg, env, add);
        checkRoleSetups(cfg, env, add);
        checkMonitoring(cfg, add);
        checkBackups(cfg, env, add);
        checkSecretsSet(cfg, secretNames, add);
    });
}
