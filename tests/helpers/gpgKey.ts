// A throwaway OpenPGP signing key made with the real gpg, for the tests of the pinned apt keys.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** A throwaway signing key: its armored public part and its fingerprint. */
export function makeKey(dir: string): { file: string; fingerprint: string } {
    const home = fs.mkdtempSync(path.join(dir, "gnupg-"));
    const run = (...args: string[]) =>
        execFileSync("gpg", ["--batch", "--homedir", home, "--passphrase", "", ...args], { encoding: "utf8" });
    run("--quick-gen-key", "Test Key <test@example.com>", "ed25519", "sign", "never");
    const file = path.join(dir, "key.asc");
    fs.writeFileSync(file, run("--armor", "--export"));
    const fingerprint = run("--with-colons", "--list-keys")
        .split("\n")
        .find((l) => l.startsWith("fpr:"))
        ?.split(":")[9] as string;
    return { file, fingerprint };
}
