// A booted Debian standing for a Proxmox VE node: the Debian packages a node has by default that the
// node's set-ups use and debootstrap's minbase lacks, the files Proxmox's installer leaves that steer the
// scripts (a ZFS root booted by proxmox-boot-tool), and small stand-ins for Proxmox's own commands (pvesh,
// pvesm, qm, pct, pveum, proxmox-boot-tool), which record every call and answer the few API paths the
// set-ups read from a JSON state. Everything else the set-ups run is the real Debian tool.
//
// One stand-in is not a Proxmox command: the lab's kernel has no module support at all (no
// /proc/modules), while Proxmox's kernel ships the wireguard module; `modprobe wireguard` is answered by
// a recorder, and every other modprobe goes to the real one.

import * as fs from "fs";
import * as path from "path";
import { BootedSystem } from "../../testing/booted/system";

/** Where the stand-ins record their calls and keep their state (under /var/log: a log, not a script's output). */
export const STAND_IN_DIR = "/var/log/pve-standins";

/**
 * What a Proxmox VE node has installed that the set-ups call, and minbase lacks: kmod (lsmod/modprobe,
 * security-host.sh), perl with its JSON::PP (the log shipper; Proxmox's own tools are Perl), initramfs-tools
 * and zstd (update-initramfs, initramfs.conf's COMPRESS), and a kernel for `update-initramfs -u -k all` to
 * rebuild: Debian's cloud kernel, the smallest real one, stands for proxmox-kernel.
 */
export const NODE_PACKAGES = ["kmod", "perl", "initramfs-tools", "zstd", "linux-image-cloud-amd64"] as const;

/** The boot files of a ZFS-root install (pve-installer, Proxmox/Install.pm; proxmox-boot-tool reads them). */
export const KERNEL_CMDLINE = "root=ZFS=rpool/ROOT/pve-1 boot=zfs";
/** An ESP proxmox-boot-tool keeps in sync (proxmox-kernel-helper, scripts/functions: ESP_LIST). */
export const ESP_UUID = "5A3C-1F2B";

/**
 * The API state the stand-ins start from: storage `local` as the installer writes it (pve-installer,
 * Proxmox/Install/StorageConfig.pm: `dir: local ... content iso,vztmpl,backup`), no IP sets, the
 * datacenter firewall's options unset (off), no node rules.
 */
export const INITIAL_STATE = {
    storage: { local: { type: "dir", path: "/var/lib/vz", content: "iso,vztmpl,backup" } },
    firewall: { ipsets: {}, options: {}, nodes: {} },
};

const PERL_HEAD = `use strict;
use warnings;
use JSON::PP;
my $dir = "${STAND_IN_DIR}";
sub record { open(my $log, ">>", "$dir/calls") or die "$dir/calls: $!\\n"; print $log join(" ", @_), "\\n"; close $log; }
my $json = JSON::PP->new->canonical;
sub load { local $/; open(my $f, "<", "$dir/state.json") or die "$dir/state.json: $!\\n"; return $json->decode(<$f>); }
sub store { open(my $f, ">", "$dir/state.json") or die "$dir/state.json: $!\\n"; print $f $json->encode($_[0]); }
`;

/**
 * pvesh: the API paths the host bootstrap and the host monitoring set-up use, with the shapes
 * pve-manager's API returns (PVE/API2/Storage/Config.pm, PVE/API2/Firewall/{IPSet,Cluster,Rules}.pm);
 * anything else is refused, so a script that starts to depend on another path fails here.
 */
const PVESH = `#!/usr/bin/perl
# ai-dualstack test stand-in for Proxmox VE's pvesh (tests/systems/pveNode.ts).
${PERL_HEAD}
record("pvesh", @ARGV);
my $state = load();
my ($verb, $path, @rest) = @ARGV;
my %opt;
while (@rest) { (my $k = shift @rest) =~ s/^--//; $opt{$k} = shift @rest; }
delete $opt{"output-format"};
# Numbers stay numbers in the API's JSON ("enable":1).
for my $n (qw(enable pos)) { $opt{$n} += 0 if exists $opt{$n}; }
sub out { print $json->encode($_[0]), "\\n"; exit 0; }
sub save { store($state); exit 0; }
sub refuse { print STDERR "pvesh stand-in: $_[0]\\n"; exit 2; }
my $fw = $state->{firewall};
if ($verb eq "get") {
    if ($path =~ m{^/storage/([^/]+)$}) {
        my $s = $state->{storage}{$1} or refuse("storage '$1' does not exist");
        out({ storage => $1, %$s });
    }
    out([ map { +{ name => $_, comment => $fw->{ipsets}{$_}{comment} } } sort keys %{ $fw->{ipsets} } ])
        if $path eq "/cluster/firewall/ipset";
    if ($path =~ m{^/cluster/firewall/ipset/([^/]+)$}) {
        my $set = $fw->{ipsets}{$1} or refuse("no such IPSet '$1'");
        out($set->{members});
    }
    out($fw->{options}) if $path eq "/cluster/firewall/options";
    if ($path =~ m{^/nodes/([^/]+)/firewall/rules$}) {
        my @rules = @{ $fw->{nodes}{$1} // [] };
        out([ map { +{ %{ $rules[$_] }, pos => $_ } } 0 .. $#rules ]);
    }
} elsif ($verb eq "create") {
    if ($path eq "/cluster/firewall/ipset") {
        refuse("IPSet '$opt{name}' already exists") if $fw->{ipsets}{ $opt{name} };
        $fw->{ipsets}{ $opt{name} } = { comment => $opt{comment}, members => [] };
        save();
    }
    if ($path =~ m{^/cluster/firewall/ipset/([^/]+)$}) {
        my $set = $fw->{ipsets}{$1} or refuse("no such IPSet '$1'");
        push @{ $set->{members} }, {%opt};
        save();
    }
    if ($path =~ m{^/nodes/([^/]+)/firewall/rules$}) {
        unshift @{ $fw->{nodes}{$1} }, {%opt};    # a new rule goes first (pos 0), as Proxmox adds it
        save();
    }
} elsif ($verb eq "set" && $path eq "/cluster/firewall/options") {
    $fw->{options} = { %{ $fw->{options} }, %opt };
    save();
} elsif ($verb eq "delete" && $path =~ m{^/nodes/([^/]+)/firewall/rules/(\\d+)$}) {
    splice(@{ $fw->{nodes}{$1} }, $2, 1);
    save();
}
refuse("no answer for '@ARGV'");
`;

/** pvesm: `set STORAGE --content LIST` only. */
const PVESM = `#!/usr/bin/perl
# ai-dualstack test stand-in for Proxmox VE's pvesm (tests/systems/pveNode.ts).
${PERL_HEAD}
record("pvesm", @ARGV);
my $state = load();
if (@ARGV == 4 && $ARGV[0] eq "set" && $ARGV[2] eq "--content") {
    my $s = $state->{storage}{ $ARGV[1] };
    if (!$s) { print STDERR "pvesm stand-in: storage '$ARGV[1]' does not exist\\n"; exit 2; }
    $s->{content} = $ARGV[3];
    store($state);
    exit 0;
}
print STDERR "pvesm stand-in: no answer for '@ARGV'\\n";
exit 2;
`;

/**
 * qm: `guest exec VMID ... -- CMD...` prints the guest agent's answer as qm does (qemu-server,
 * PVE/API2/Qemu/Agent.pm exec_and_wait: exitcode, exited, out-data), its out-data whatever the test
 * queued for that VM (queueGuestOutput), each line once, as `docker logs --since` gives new lines only.
 */
const QM = `#!/usr/bin/perl
# ai-dualstack test stand-in for Proxmox VE's qm (tests/systems/pveNode.ts).
${PERL_HEAD}
record("qm", @ARGV);
if (@ARGV >= 3 && $ARGV[0] eq "guest" && $ARGV[1] eq "exec") {
    my $queue = "$dir/guest-$ARGV[2].out";
    my $out = "";
    if (open(my $f, "<", $queue)) {
        local $/;
        $out = <$f> // "";
        close $f;
        open($f, ">", $queue) or die "$queue: $!\\n";
    }
    print $json->encode({ exitcode => 0, exited => 1, "out-data" => $out }), "\\n";
    exit 0;
}
print STDERR "qm stand-in: no answer for '@ARGV'\\n";
exit 2;
`;

/** A recorder that refuses every call: no set-up under test may need it. */
function refusing(tool: string): string {
    return `#!/bin/bash
# ai-dualstack test stand-in for Proxmox VE's ${tool} (tests/systems/pveNode.ts): records, answers nothing.
echo "${tool} $*" >>${STAND_IN_DIR}/calls
echo "${tool} stand-in: no answer for '$*'" >&2
exit 2
`;
}

/** proxmox-boot-tool: `refresh` records the kernel command line it would write to the ESPs' loader entries. */
const PROXMOX_BOOT_TOOL = `#!/bin/bash
# ai-dualstack test stand-in for Proxmox VE's proxmox-boot-tool (tests/systems/pveNode.ts).
echo "proxmox-boot-tool $*" >>${STAND_IN_DIR}/calls
if [[ "$*" == refresh ]]; then
    echo "proxmox-boot-tool refresh: cmdline $(cat /etc/kernel/cmdline)" >>${STAND_IN_DIR}/calls
    exit 0
fi
echo "proxmox-boot-tool stand-in: no answer for '$*'" >&2
exit 2
`;

/** The kernel's wireguard module (see the head of this file): recorded, nothing loaded; the rest is modprobe's. */
const MODPROBE = `#!/bin/bash
# ai-dualstack test stand-in for Proxmox's kernel's wireguard module (tests/systems/pveNode.ts).
echo "modprobe $*" >>${STAND_IN_DIR}/calls
[[ "$*" == wireguard ]] && exit 0
exec /usr/sbin/modprobe "$@"
`;

export const STAND_INS: Readonly<Record<string, string>> = {
    pvesh: PVESH,
    pvesm: PVESM,
    qm: QM,
    pct: refusing("pct"),
    pveum: refusing("pveum"),
    "proxmox-boot-tool": PROXMOX_BOOT_TOOL,
    modprobe: MODPROBE,
};

function write(system: BootedSystem, file: string, content: string, mode = 0o644): void {
    const full = path.join(system.root, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content, { mode });
}

/**
 * Makes a freshly booted system a stand-in node before any set-up runs: the packages, the boot files,
 * the stand-ins in /usr/local/sbin (ahead of /usr/sbin on root's PATH), and the lab's TLS egress CA
 * (this machine reaches PyPI through an intercepting proxy whose CA the host trusts; the node gets it too,
 * as a node behind such a proxy would).
 */
export async function prepareNode(system: BootedSystem): Promise<void> {
    for (const [name, text] of Object.entries(STAND_INS)) write(system, `usr/local/sbin/${name}`, text, 0o755);
    write(system, `${STAND_IN_DIR.slice(1)}/state.json`, JSON.stringify(INITIAL_STATE));
    write(system, `${STAND_IN_DIR.slice(1)}/calls`, "");
    write(system, "etc/kernel/cmdline", `${KERNEL_CMDLINE}\n`);
    write(system, "etc/kernel/proxmox-boot-uuids", `${ESP_UUID}\n`);
    const cas = "/usr/local/share/ca-certificates";
    if (fs.existsSync(cas)) {
        for (const ca of fs.readdirSync(cas).filter((f) => f.endsWith(".crt"))) {
            write(system, path.join(cas.slice(1), ca), fs.readFileSync(path.join(cas, ca), "utf8"));
        }
    }
    await system.sh(
        "export DEBIAN_FRONTEND=noninteractive; update-ca-certificates >/dev/null && apt-get update -qq && " +
            `apt-get install -y -qq --no-install-recommends ${NODE_PACKAGES.join(" ")} >/dev/null`,
    );
}

/** The stand-ins' calls so far, one line each. */
export function standInCalls(system: BootedSystem): string[] {
    return fs
        .readFileSync(path.join(system.root, STAND_IN_DIR.slice(1), "calls"), "utf8")
        .split("\n")
        .filter((l) => l !== "");
}

/** Lines `qm guest exec VMID` hands out next (the guest agent's out-data), e.g. a proxy's access log. */
export function queueGuestOutput(system: BootedSystem, vmid: number, text: string): void {
    write(system, `${STAND_IN_DIR.slice(1)}/guest-${vmid}.out`, text);
}
