// IPv4 arithmetic: a guest's address with its prefix, which network an address is in, whether two
// networks overlap. Plain functions for the config rules, the resolve step and the components.

export interface Ipv4Network {
    /** Network address as an unsigned 32-bit number. */
    base: number;
    prefix: number;
}

export function ipToNumber(ip: string): number {
    const octets = ip.split(".").map(Number);
    if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
        throw new Error(`"${ip}" is not an IPv4 address`);
    }
    return octets.reduce((acc, o) => acc * 256 + o, 0);
}

function mask(prefix: number): number {
    return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.10.10.20/24" → the network it is in, 10.10.10.0/24. */
export function parseCidr(text: string): Ipv4Network {
    const [ip, bits] = text.split("/");
    const prefix = Number(bits);
    if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
        throw new Error(`"${text}" is not in CIDR form`);
    }
    return { base: (ipToNumber(ip) & mask(prefix)) >>> 0, prefix };
}

/** "10.8.0.1/24" → "10.8.0.0/24": the network an address with its prefix is in. */
export function networkCidr(text: string): string {
    const { base, prefix } = parseCidr(text);
    return `${[24, 16, 8, 0].map((shift) => (base >>> shift) & 255).join(".")}/${prefix}`;
}

/** A host address with its network's prefix length: "10.10.10.20/24" as { ip, prefix }. */
export interface Ipv4Address {
    readonly ip: string;
    readonly prefix: number;
}

/** "10.10.10.20/24" → { ip: "10.10.10.20", prefix: 24 }. Throws on anything else. */
export function parseAddress(text: string): Ipv4Address {
    const { prefix } = parseCidr(text);
    const ip = text.split("/")[0] as string;
    ipToNumber(ip);
    return { ip, prefix };
}

/** The CIDR notation Proxmox and cloud-init take: "10.10.10.20/24". */
export function formatAddress(address: Ipv4Address): string {
    return `${address.ip}/${address.prefix}`;
}

export function containsIp(net: Ipv4Network, ip: string): boolean {
    return (ipToNumber(ip) & mask(net.prefix)) >>> 0 === net.base;
}

/** True when `inner` lies wholly inside `outer`. */
export function containsNetwork(outer: Ipv4Network, inner: Ipv4Network): boolean {
    return inner.prefix >= outer.prefix && (inner.base & mask(outer.prefix)) >>> 0 === outer.base;
}

export function networksOverlap(a: Ipv4Network, b: Ipv4Network): boolean {
    return containsNetwork(a, b) || containsNetwork(b, a);
}

/**
 * The IPv4 blocks that are not the public internet (RFC 6890's special-purpose registry): private
 * networks, carrier-grade NAT, loopback, link-local, documentation, benchmarking, multicast and
 * reserved space. A DMZ guest may reach the internet, but none of these through its router.
 */
export const NON_PUBLIC_IPV4: readonly string[] = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
];

/** Every IPv4 address in two halves: an ipset (hash:net) takes no /0. */
export const ALL_IPV4_HALVES: readonly string[] = ["0.0.0.0/1", "128.0.0.0/1"];
