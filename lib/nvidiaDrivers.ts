// Which NVIDIA driver branch first drives a card, for the cards a container shares from the host
// (the host's driver must know the card; a VM brings its own). Plain data, read by the config rules
// and the host check.
//
// Sources (NVIDIA's Linux driver release notes, "Added support for the following GPUs", in the
// Unix driver archive, https://www.nvidia.com/en-us/drivers/unix/): GeForce RTX 3060 first in
// 460.39 (February 2021); GeForce RTX 5090 and 5080 first in 570.86.16 (January 2025), and NVIDIA's
// README says cards of the Blackwell generation run on the open kernel modules only. The
// per-generation floors below are the branch that first supported the generation's consumer cards,
// rounded up to the next long-lived branch where the exact first release was not checked here:
// a floor set too high only asks for a newer driver, never lets an unsupported one through.

/** A card generation, found by the device id's leading byte (NVIDIA numbers its chips in blocks). */
interface Generation {
    readonly name: string;
    /** Device ids 0xFROM00-0xTOff. */
    readonly from: number;
    readonly to: number;
    readonly minBranch: number;
}

const GENERATIONS: readonly Generation[] = [
    { name: "Turing", from: 0x1e, to: 0x1f, minBranch: 418 },
    { name: "Turing", from: 0x21, to: 0x21, minBranch: 418 },
    { name: "Ampere", from: 0x20, to: 0x20, minBranch: 450 },
    { name: "Ampere", from: 0x22, to: 0x25, minBranch: 460 },
    { name: "Ada Lovelace", from: 0x26, to: 0x28, minBranch: 535 },
    { name: "Blackwell", from: 0x29, to: 0x2f, minBranch: 570 },
];

/** Cards checked one by one (the release notes above), ahead of their generation's floor. */
const CARDS: Readonly<Record<string, { readonly name: string; readonly minBranch: number }>> = {
    "10de:2504": { name: "Ampere", minBranch: 460 },
    "10de:2b85": { name: "Blackwell", minBranch: 570 },
};

export interface CardSupport {
    /** The generation, for messages. */
    readonly generation: string;
    /** The oldest driver branch that drives the card. */
    readonly minBranch: number;
}

/** What the card needs of the host's driver; undefined for a card this table does not know. */
export function cardSupport(vendorDeviceId: string): CardSupport | undefined {
    const card = CARDS[vendorDeviceId];
    if (card) return { generation: card.name, minBranch: card.minBranch };
    const [vendor, device] = vendorDeviceId.split(":");
    if (vendor !== "10de" || device === undefined) return undefined;
    const lead = parseInt(device.slice(0, 2), 16);
    const gen = GENERATIONS.find((g) => lead >= g.from && lead <= g.to);
    return gen ? { generation: gen.name, minBranch: gen.minBranch } : undefined;
}

/** "550.163.01" → 550. */
export function driverBranch(version: string): number {
    return Number(version.split(".")[0]);
}
