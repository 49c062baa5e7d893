# Pins a service container to its CPUs and starts it, idempotently (body; serviceLxc.ts renders
# the header). Run as root on the node once the container's firewall is in place.
# lxc.cgroup2.cpuset.cpus is a raw LXC key: pct cannot set it, and only root may write it. It goes in
# the config's main section, before any snapshot section ([name]).
# Inputs (rendered above): AIDS_VMID, AIDS_CPUS (a CPU set; empty: no pinning).
set -euo pipefail
R="${AIDS_ROOT:-}"

if [[ -n "$AIDS_CPUS" ]]; then
    conf="$R/etc/pve/lxc/${AIDS_VMID}.conf"
    want="lxc.cgroup2.cpuset.cpus: ${AIDS_CPUS}"
    current="$(sed -n '/^\[/q; /^lxc\.cgroup2\.cpuset\.cpus:/p' "$conf")"
    if [[ "$current" != "$want" ]]; then
        tmp="$(mktemp)"
        awk -v want="$want" '
            !done && /^\[/ { print want; done = 1 }
            !done && /^lxc\.cgroup2\.cpuset\.cpus:/ { next }
            { print }
            END { if (!done) print want }
        ' "$conf" >"$tmp"
        cat "$tmp" >"$conf"
        rm -f "$tmp"
        echo "ai-dualstack: CT ${AIDS_VMID} pinned to ${AIDS_CPUS}"
        # A running container takes the set now through its cgroup, else at its next start.
        if pct status "$AIDS_VMID" | grep -q running; then
            echo "$AIDS_CPUS" >"$R/sys/fs/cgroup/lxc/${AIDS_VMID}/cpuset.cpus" 2>/dev/null ||
                echo "ai-dualstack: CT ${AIDS_VMID} takes ${AIDS_CPUS} at its next start"
        fi
    fi
fi

if pct status "$AIDS_VMID" | grep -q running; then
    echo "ai-dualstack: CT ${AIDS_VMID} is running"
else
    pct start "$AIDS_VMID"
    echo "ai-dualstack: started CT ${AIDS_VMID}"
fi
