import { formatCpuset, intersectCpus, parseCpuset } from "../../lib/cpuset";

describe("parseCpuset", () => {
    test("expands ranges and lists, sorted and de-duplicated", () => {
        expect(parseCpuset("8,0-3,2")).toEqual([0, 1, 2, 3, 8]);
        expect(parseCpuset("16-23")).toHaveLength(8);
    });
    test("rejects malformed and backwards sets with the fix in the message", () => {
        expect(() => parseCpuset("2..13")).toThrow('write it like "4-11"');
        expect(() => parseCpuset("11-4")).toThrow("runs backwards");
    });
});

test("formatCpuset prints the shortest range notation", () => {
    expect(formatCpuset([3, 0, 1, 2, 8, 10, 11])).toBe("0-3,8,10-11");
    expect(formatCpuset([5])).toBe("5");
    expect(formatCpuset([])).toBe("");
    expect(formatCpuset(parseCpuset("2-13"))).toBe("2-13");
});

test("intersectCpus keeps the CPUs in both sets", () => {
    expect(intersectCpus([1, 2, 3, 4], [3, 4, 5])).toEqual([3, 4]);
    expect(intersectCpus([1], [2])).toEqual([]);
});
