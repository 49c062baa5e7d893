// The security container's forward rules, in a real kernel: three network namespaces (a VPN client,
// the container, the LAN with an environment guest, the node and another LAN host) inside a
// throwaway user namespace, the rendered nftables ruleset loaded with `nft` in the container's, and
// TCP probes that tell "answered" (even refused) from "dropped". The tunnel is a veth named wg0:
// the rules match the interface name; WireGuard itself is tested in wireguard.test.ts.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderForwardRules } from "../../../components/serviceLxc/security";
import { validator } from "../../helpers/sandbox";

const nft = validator("nft");
const ip = validator("ip");

const TOPOLOGY = `set -euo pipefail
mount -t tmpfs tmpfs /run
mkdir -p /run/netns
for n in ct client lan; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add wg0 netns ct type veth peer name c0 netns client
ip link add eth0 netns ct type veth peer name l0 netns lan
ip -n ct addr add 10.8.0.1/24 dev wg0
ip -n ct addr add 10.10.10.22/24 dev eth0
ip -n client addr add 10.8.0.2/24 dev c0
# The LAN namespace holds an environment guest, the node, another LAN host and another subnet's host.
for a in 10.10.10.10/24 192.168.1.10/32 192.168.1.20/32 10.20.20.10/32; do ip -n lan addr add "$a" dev l0; done
ip -n ct link set wg0 up; ip -n ct link set eth0 up; ip -n client link set c0 up; ip -n lan link set l0 up
ip -n client route add default via 10.8.0.1
ip -n lan route add 10.8.0.0/24 via 10.10.10.22
ip -n ct route add default via 10.10.10.10
ip netns exec ct sysctl -q -w net.ipv4.ip_forward=1
ip netns exec ct nft -f "$RULES"
probe() {
    if timeout 2 ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/22" 2>/dev/null; then
        echo "$1 $2 reached"
    elif [[ $? -eq 124 ]]; then
        echo "$1 $2 dropped"
    else
        echo "$1 $2 reached"
    fi
}
for d in 10.10.10.10 192.168.1.10 192.168.1.20 10.20.20.10; do probe client "$d"; done
probe lan 10.8.0.2`;

(nft && ip ? test : test.skip)(
    "VPN clients reach the environment and the node, nothing else; nothing reaches into the tunnel",
    () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-nft-"));
        const rules = path.join(dir, "nftables.conf");
        fs.writeFileSync(
            rules,
            renderForwardRules(["10.10.10.0/24", "192.168.1.10/32"], "10.8.0.0/24", "10.10.10.0/24"),
        );
        const out = execFileSync("unshare", ["-rnm", "bash", "-c", TOPOLOGY], {
            encoding: "utf8",
            env: { ...process.env, RULES: rules, PATH: `${process.env["PATH"] ?? ""}:/usr/sbin:/sbin` },
        });
        expect(out.trim().split("\n")).toEqual([
            "client 10.10.10.10 reached",
            "client 192.168.1.10 reached",
            "client 192.168.1.20 dropped",
            "client 10.20.20.10 dropped",
            "lan 10.8.0.2 dropped",
        ]);
    },
    30_000,
);
