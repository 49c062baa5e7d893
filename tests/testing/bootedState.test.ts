// The idempotence check's file states (testing/booted/state.ts): a second snapshot reuses the first's checksum of a
// file nobody touched since, and hashes again whatever was written, even with the same bytes.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hashTree, SystemState } from "../../testing/booted/state";

const settle = () => new Promise((resolve) => setTimeout(resolve, 50)); // past the kernel's coarse clock tick

function tree(files: Record<string, string>): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-state-"));
    for (const [name, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
        fs.writeFileSync(path.join(root, name), text);
    }
    return root;
}

/** A first snapshot whose every checksum is replaced by a marker, so a reused entry shows. */
function marked(root: string): SystemState {
    const first = hashTree(root);
    const files = new Map([...first.files].map(([f]) => [f, `marker ${f}`]));
    return { files, stats: first.stats, units: new Map(), cursor: "" };
}

test("an untouched file keeps the earlier entry; a written one is hashed again", async () => {
    const root = tree({ "etc/mode.conf": "a\n", "etc/same.conf": "b\n", "etc/changed.conf": "c\n", "etc/gone": "d\n" });
    const fresh = hashTree(root).files;
    const earlier = marked(root);
    await settle();
    fs.writeFileSync(path.join(root, "etc/same.conf"), "b\n"); // rewritten with the same bytes
    fs.writeFileSync(path.join(root, "etc/changed.conf"), "c, with a timestamp\n");
    fs.rmSync(path.join(root, "etc/gone"));
    fs.writeFileSync(path.join(root, "etc/new.conf"), "e\n");
    fs.chmodSync(path.join(root, "etc/mode.conf"), 0o600); // a chmod is a change too
    const after = hashTree(root, earlier).files;
    expect(after.get("etc/same.conf")).toBe(fresh.get("etc/same.conf"));
    expect(after.get("etc/changed.conf")).not.toBe(fresh.get("etc/changed.conf"));
    expect(after.get("etc/changed.conf")).toMatch(/^[0-9a-f]{64} 644 /);
    expect(after.get("etc/mode.conf")).toMatch(/^[0-9a-f]{64} 600 /);
    expect(after.has("etc/gone")).toBe(false);
    expect(after.has("etc/new.conf")).toBe(true);

    const untouched = tree({ "etc/one.conf": "1\n", "var/log/syslog": "volatile\n" });
    const first = marked(untouched);
    await settle();
    expect(hashTree(untouched, first).files).toEqual(new Map([["etc/one.conf", "marker etc/one.conf"]]));
});
