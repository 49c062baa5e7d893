// A security or CI/CD container's description names what its set-up installs, and nothing it does not.

import { rolePurpose } from "../../config/rolePurpose";
import { LxcConfig } from "../../config/schema";
import { parsedConfig, stackModel } from "../helpers/config";

const cfg = parsedConfig("private");
const security = cfg.containers["private-security"] as LxcConfig;
const cicd = cfg.containers["private-cicd"] as LxcConfig;

test("the shipped containers' descriptions name their set-ups", () => {
    const described = Object.fromEntries(stackModel("private").containers.map((c) => [c.name, c.description]));
    expect(described["private-security"]).toBe(
        "ai-dualstack private: Security: WireGuard VPN, CrowdSec on the public proxy's access log",
    );
    expect(described["private-cicd"]).toBe(
        "ai-dualstack private: CI/CD: GitHub Actions runner for your-github-user/ai-dualstack, Docker inside",
    );
});

test("without a set-up, the description says nothing is installed", () => {
    const { wireguard: _w, crowdsec: _c, ...bareSecurity } = security;
    const { runner: _r, ...bareCicd } = cicd;
    expect(rolePurpose(bareSecurity)).toBe("Security container (nothing installed yet)");
    expect(rolePurpose(bareCicd)).toBe("CI/CD container (nothing installed yet)");
    expect(rolePurpose({ ...bareSecurity, crowdsec: security.crowdsec })).toBe(
        "Security: CrowdSec on the public proxy's access log",
    );
});
