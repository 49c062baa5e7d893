// A service container's description (shown in Proxmox and the plan) says what is really installed in
// it: the security and CI/CD roles name their configured set-ups, or say that nothing is installed.

import { LxcConfig } from "./schema";
import { ROLE_DEFAULTS } from "./sizing";

export function rolePurpose(lxc: Pick<LxcConfig, "role" | "wireguard" | "crowdsec" | "runner">): string {
    if (lxc.role === "security") {
        const parts = [
            ...(lxc.wireguard ? ["WireGuard VPN"] : []),
            ...(lxc.crowdsec ? ["CrowdSec on the public proxy's access log"] : []),
        ];
        return parts.length > 0 ? `Security: ${parts.join(", ")}` : "Security container (nothing installed yet)";
    }
    if (lxc.role === "cicd") {
        return lxc.runner
            ? `CI/CD: GitHub Actions runner for ${lxc.runner.repository}, Docker inside`
            : "CI/CD container (nothing installed yet)";
    }
    return ROLE_DEFAULTS[lxc.role].purpose;
}
