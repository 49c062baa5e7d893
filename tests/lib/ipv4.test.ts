import {
    containsIp,
    containsNetwork,
    formatAddress,
    ipToNumber,
    networksOverlap,
    parseAddress,
    parseCidr,
} from "../../lib/ipv4";

test("parseCidr masks host bits off", () => {
    expect(parseCidr("10.10.10.20/24")).toEqual({ base: ipToNumber("10.10.10.0"), prefix: 24 });
    expect(parseCidr("0.0.0.0/0")).toEqual({ base: 0, prefix: 0 });
    expect(() => parseCidr("10.0.0.0/33")).toThrow("not in CIDR form");
    expect(() => ipToNumber("10.0.0.256")).toThrow("not an IPv4 address");
});

test("containment and overlap", () => {
    const lan = parseCidr("192.168.1.0/24");
    expect(containsIp(lan, "192.168.1.200")).toBe(true);
    expect(containsIp(lan, "192.168.2.1")).toBe(false);
    expect(containsNetwork(parseCidr("10.0.0.0/8"), parseCidr("10.20.0.0/16"))).toBe(true);
    expect(containsNetwork(parseCidr("10.20.0.0/16"), parseCidr("10.0.0.0/8"))).toBe(false);
    expect(networksOverlap(parseCidr("10.10.10.0/24"), parseCidr("10.10.0.0/16"))).toBe(true);
    expect(networksOverlap(parseCidr("10.10.10.0/24"), parseCidr("10.20.20.0/24"))).toBe(false);
    expect(parseAddress("10.10.10.20/24")).toEqual({ ip: "10.10.10.20", prefix: 24 });
    expect(formatAddress(parseAddress("10.10.10.20/24"))).toBe("10.10.10.20/24");
    expect(() => parseAddress("10.10.10.300/24")).toThrow("not an IPv4 address");
});
