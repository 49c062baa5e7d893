// Where CrowdSec's bans apply (issue 19, item 11), in a real kernel. The bans come from the public
// VM's own log, so a compromised VM can get any address banned; they must therefore drop only what
// is forwarded to that VM. Network namespaces inside a throwaway user namespace: a banned address
// and an ordinary visitor on the internet side, the node (which forwards, as its bridges do for the
// guests; bridge netfilter sends bridged traffic through the same forward hook), the public VM and
// a private guest. The node loads the rendered table; the address goes into the set the way the
// bouncer puts it there (an element with a timeout); TCP probes tell answered (even refused) from
// dropped.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import {
    BOUNCER_SET,
    BOUNCER_TABLE,
    bouncerLocalConfig,
    bouncerRuleset,
} from "../../../components/serviceLxc/crowdsec";
import { validator } from "../../helpers/sandbox";

const nft = validator("nft");
const ip = validator("ip");

const BANNED = "203.0.113.66";
const VISITOR = "198.51.100.7";

const TOPOLOGY = `set -euo pipefail
mount -t tmpfs tmpfs /run
mkdir -p /run/netns
for n in node banned visitor pub priv; do ip netns add "$n"; ip -n "$n" link set lo up; done
link() { # NETNS NODE-SIDE-ADDRESS ITS-ADDRESS
    ip link add "to-$1" netns node type veth peer name eth0 netns "$1"
    ip -n node addr add "$2" dev "to-$1"
    ip -n "$1" addr add "$3" dev eth0
    ip -n node link set "to-$1" up
    ip -n "$1" link set eth0 up
    ip -n "$1" route add default via "\${2%/*}" dev eth0 onlink
}
link banned 192.0.2.1/32 ${BANNED}/32
link visitor 192.0.2.5/32 ${VISITOR}/32
link pub 10.20.20.1/24 10.20.20.10/24
link priv 10.10.10.1/24 10.10.10.10/24
ip -n node route add ${BANNED}/32 dev to-banned
ip -n node route add ${VISITOR}/32 dev to-visitor
ip netns exec node sysctl -q -w net.ipv4.ip_forward=1
ip netns exec node nft -f "$RULES"
# Loading twice: the file replaces its table, as each start of the bouncer does.
ip netns exec node nft -f "$RULES"
ip netns exec node nft add element ip ${BOUNCER_TABLE} ${BOUNCER_SET} "{ ${BANNED} timeout 4h }"
probe() {
    if timeout 2 ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; then
        echo "$1 -> $2 reached"
    elif [[ $? -eq 124 ]]; then
        echo "$1 -> $2 dropped"
    else
        echo "$1 -> $2 reached"
    fi
}
probe banned 10.20.20.10 443
probe visitor 10.20.20.10 443
probe banned 10.10.10.10 22
probe banned 192.0.2.1 22
probe node ${BANNED} 443
probe priv ${BANNED} 443`;

(nft && ip ? test : test.skip)(
    "a banned address is dropped on its way to the public VM, and nowhere else",
    () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-bouncer-"));
        const rules = path.join(dir, "crowdsec-bouncer.nft");
        fs.writeFileSync(rules, bouncerRuleset("10.20.20.10"));
        try {
            const out = execFileSync("unshare", ["-rnm", "bash", "-c", TOPOLOGY], {
                encoding: "utf8",
                env: { ...process.env, RULES: rules, PATH: `${process.env["PATH"] ?? ""}:/usr/sbin:/sbin` },
            });
            expect(out.trim().split("\n")).toEqual([
                "banned -> 10.20.20.10 dropped",
                "visitor -> 10.20.20.10 reached",
                // A forged ban cuts off neither a private guest nor the node ...
                "banned -> 10.10.10.10 reached",
                "banned -> 192.0.2.1 reached",
                // ... nor their own connections to that address (a mirror, GitHub, Let's Encrypt).
                "node -> 203.0.113.66 reached",
                "priv -> 203.0.113.66 reached",
            ]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    },
    30_000,
);

test("the bouncer only fills the set of that table (set-only) and hooks nothing itself", () => {
    // Keys as cs-firewall-bouncer's pkg/cfg/config.go reads them; set-only: it looks the table up
    // by name, creates the set only if missing, and adds no chain (its nftables.go, v0.0.23 on).
    expect(parse(bouncerLocalConfig("10.10.10.22", "key"))).toEqual({
        mode: "nftables",
        api_url: "http://10.10.10.22:8080/",
        api_key: "key",
        blacklists_ipv4: BOUNCER_SET,
        nftables: { ipv4: { enabled: true, "set-only": true, table: BOUNCER_TABLE }, ipv6: { enabled: false } },
        update_frequency: "10s",
    });
    const rules = bouncerRuleset("10.20.20.10");
    expect(rules).toContain(`table ip ${BOUNCER_TABLE} {`);
    expect(rules.match(/hook \w+/g)).toEqual(["hook forward"]);
    expect(rules).toContain(`ip daddr 10.20.20.10 ip saddr @${BOUNCER_SET} counter drop`);
});
