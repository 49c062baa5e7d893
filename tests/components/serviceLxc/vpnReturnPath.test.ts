// The VPN's return path (issue 19, item 7), in a real kernel: a VPN client, the security container,
// an environment guest and a stateful router, each in a network namespace inside a throwaway user
// namespace; the container, the guest and the router share one link (a bridge in a "switch"
// namespace), as the private VLAN does. The router routes the VPN subnet to the container, as
// docs/security.md asks of it, and drops what its connection tracking finds invalid, as stateful
// routers do. The tunnel is a plain veth named wg0: the rendered ruleset matches the interface name,
// and the masquerade rule is what is under test (WireGuard itself: wireguard.test.ts).

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderForwardRules } from "../../../components/serviceLxc/security";
import { trustedNetwork } from "../../../config/resolve/network";
import { parsedConfig } from "../../helpers/config";
import { validator } from "../../helpers/sandbox";

const nft = validator("nft");
const ip = validator("ip");

const TOPOLOGY = `set -euo pipefail
mount -t tmpfs tmpfs /run
mkdir -p /run/netns
for n in client ct guest router sw; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n sw link add br0 type bridge
ip -n sw link set br0 up
ip link add wg0 netns ct type veth peer name c0 netns client
for n in ct guest router; do
    ip link add eth0 netns "$n" type veth peer name "p-$n" netns sw
    ip -n sw link set "p-$n" master br0 up
    ip -n "$n" link set eth0 up
done
ip -n ct addr add 10.8.0.1/24 dev wg0
ip -n ct link set wg0 up
ip -n client addr add 10.8.0.2/24 dev c0
ip -n client link set c0 up
ip -n client route add default via 10.8.0.1
ip -n ct addr add 10.10.10.22/24 dev eth0
ip -n guest addr add 10.10.10.10/24 dev eth0
ip -n router addr add 10.10.10.1/24 dev eth0
# The guest and the container know only their default gateway, the router.
ip -n ct route add default via 10.10.10.1
ip -n guest route add default via 10.10.10.1
ip -n router route add 10.8.0.0/24 via 10.10.10.22
ip netns exec ct sysctl -q -w net.ipv4.ip_forward=1
ip netns exec router sysctl -q -w net.ipv4.ip_forward=1
# No ICMP redirects: a router that sent them (and a guest that took them) would mend the path by
# chance; many routers and hardened guests do neither.
for c in all default eth0; do
    ip netns exec router sysctl -q -w "net.ipv4.conf.$c.send_redirects=0"
    ip netns exec guest sysctl -q -w "net.ipv4.conf.$c.accept_redirects=0"
done
ip netns exec ct nft -f "$RULES"
# The router: counts the VPN-bound packets it sees, then drops what it has no connection for.
ip netns exec router nft -f - <<'NFT'
table inet router {
    chain forward {
        type filter hook forward priority 0; policy accept;
        ip daddr 10.8.0.0/24 counter name to_vpn
        ct state invalid drop
    }
    counter to_vpn {}
}
NFT
# The guest: counts the SSH connection attempts by source.
ip netns exec guest nft -f - <<'NFT'
table inet guest {
    counter from_ct {}
    counter from_vpn {}
    chain input {
        type filter hook input priority 0; policy accept;
        ip saddr 10.10.10.22 tcp dport 22 counter name from_ct
        ip saddr 10.8.0.0/24 tcp dport 22 counter name from_vpn
    }
}
NFT
# Nothing listens on the guest's port 22: its reset is the reply. A timeout means the reply was lost.
if timeout 3 ip netns exec client bash -c "exec 3<>/dev/tcp/10.10.10.10/22" 2>/dev/null; then
    echo "reply came back"
elif [[ $? -eq 124 ]]; then
    echo "reply lost"
else
    echo "reply came back"
fi
packets() { ip netns exec "$1" nft list counter inet "$1" "$2" | grep -o 'packets [0-9]*' | cut -d' ' -f2; }
echo "guest saw the container: $(packets guest from_ct)"
echo "guest saw the VPN: $(packets guest from_vpn)"
echo "router saw replies to the VPN: $(packets router to_vpn)"`;

/** Runs the topology with the container's ruleset; returns its report, one line each. */
function run(rules: string): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-vpn-return-"));
    const file = path.join(dir, "nftables.conf");
    fs.writeFileSync(file, rules);
    try {
        const out = execFileSync("unshare", ["-rnm", "bash", "-c", TOPOLOGY], {
            encoding: "utf8",
            env: { ...process.env, RULES: file, PATH: `${process.env["PATH"] ?? ""}:/usr/sbin:/sbin` },
        });
        return out.trim().split("\n");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const rendered = renderForwardRules(["10.10.10.0/24"], "10.8.0.0/24", "10.10.10.0/24");

(nft && ip ? describe : describe.skip)("the VPN's return path through a stateful router", () => {
    test("the container masquerades toward its subnet: the guest answers it directly, and the reply comes back", () => {
        expect(run(rendered)).toEqual([
            "reply came back",
            "guest saw the container: 1",
            "guest saw the VPN: 0",
            "router saw replies to the VPN: 0",
        ]);
    }, 30_000);

    test("without the masquerade the guest answers the router, which drops the reply", () => {
        const withoutNat = rendered.replace(/^.*masquerade$/m, "");
        expect(withoutNat).not.toContain("masquerade");
        const [reply, ...counts] = run(withoutNat);
        expect(reply).toBe("reply lost");
        // The client's SYN is retried within the timeout: each try reaches the guest from the VPN
        // address, and each reply goes to the router.
        expect(counts[0]).toBe("guest saw the container: 0");
        expect(counts[1]).toMatch(/^guest saw the VPN: [1-9]\d*$/);
        expect(counts[2]).toMatch(/^router saw replies to the VPN: [1-9]\d*$/);
    }, 30_000);
});

test("the guests' firewalls trust the WireGuard container's address, which the masqueraded clients arrive with", () => {
    const cfg = parsedConfig("private");
    expect(trustedNetwork(cfg.environments.private.network, cfg.containers).trustedSources).toEqual([
        ...cfg.environments.private.network.trustedSources,
        "10.10.10.22/32",
    ]);
    // Without a WireGuard container nothing is added.
    const { ["private-security"]: _security, ...others } = cfg.containers;
    expect(trustedNetwork(cfg.environments.private.network, others)).toBe(cfg.environments.private.network);
});
