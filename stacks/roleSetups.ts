// The security and CI/CD containers' set-ups, wired from the stack: what each installs, where it
// answers, and the VPN's client configs. Containers of other roles, or without a static address, get none.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { LoadedStack } from "../config/load";
import { LxcModel } from "../config/resolve";
import { RunnerSetup } from "../components/serviceLxc/cicdRunner";
import { SecuritySetup } from "../components/serviceLxc/security";
import { ServiceLxc } from "../components/serviceLxc/serviceLxc";

export interface RoleSetupOutput {
    /** What the set-up installs, its endpoints and jobs, in one line. */
    readonly setup: string;
    readonly endpoints: readonly string[];
    /** WireGuard peers' client configs, without their private keys. */
    readonly vpnClients?: pulumi.Output<Record<string, string>>;
    /** The set-up itself: what else installs in the container waits for it (one apt run at a time). */
    readonly done: pulumi.Resource;
}

export function buildRoleSetup(
    stack: LoadedStack,
    lxc: LxcModel,
    built: ServiceLxc,
    hostConnection: command.types.input.remote.ConnectionArgs,
): RoleSetupOutput | undefined {
    const address = lxc.network.address?.ip;
    if (address === undefined) return undefined;
    const common = { address, sshPrivateKey: stack.secrets.guestSshPrivateKey, dependsOn: [built.start] };
    const secret = (name: string) => stack.secrets.services.value(name);
    if (lxc.wireguard || lxc.crowdsec) {
        const sec = new SecuritySetup(`${lxc.name}-security`, {
            ...common,
            ...(lxc.wireguard
                ? { wireguard: { settings: lxc.wireguard, privateKey: secret(lxc.wireguard.privateKeySecret) } }
                : {}),
            ...(lxc.crowdsec
                ? { crowdsec: { settings: lxc.crowdsec, bouncerKey: secret(lxc.crowdsec.bouncerKeySecret) } }
                : {}),
            hostConnection,
            network: stack.network,
            proxmox: stack.proxmox,
            nodeAddress: stack.nodes.find((n) => n.name === lxc.node)?.ssh.address,
        });
        return {
            setup: sec.description,
            endpoints: sec.endpoints,
            ...(lxc.wireguard ? { vpnClients: sec.clientConfigs } : {}),
            done: sec,
        };
    }
    if (lxc.runner) {
        const registrationToken = secret(lxc.runner.tokenSecret);
        const runner = new RunnerSetup(`${lxc.name}-runner`, { ...common, lxc, registrationToken });
        return { setup: runner.description, endpoints: [], done: runner };
    }
    return undefined;
}
