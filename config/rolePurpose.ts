// A service container's description (shown in Proxmox and the plan) says what is really installed in
// it: the security and CI/CD roles name their configured set-ups, or say that nothing is installed.

import { LxcConfig } from "./schema";
import { ROLE_DEFAULTS } from "./sizing";

export function rolePurpose(ct: Pick<LxcConfig, "role" | "wireguard" | "crowdsec" | "runner">): string {
    if (ct.role === "security") {
        const parts = [
            ...(ct.wireguard ? ["WireGuard VPN"] : []),
            ...(ct.crowdsec ? ["CrowdSec on the public proxy's access log"] : []),
        ];
        return parts.length > 0 ? `Security: ${parts.join(", ")}` : "Security container (nothing installed yet)";
    }
    if (ct.role === "cicd") {
        return ct.runner
            ? `CI/CD: GitHub Actions runner for ${ct.runner.repository}, Docker inside`
            : "CI/CD container (nothing installed yet)";
    }
    return ROLE_DEFAULTS[ct.role].purpose;
}
