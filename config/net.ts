// IPv4 arithmetic for the isolation checks: which network an address is in, whether two overlap.

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

export function addressOf(cidr: string): string {
    return cidr.split("/")[0] ?? cidr;
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
