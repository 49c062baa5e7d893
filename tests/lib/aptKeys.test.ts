// The pinned apt keys (issue 19, item 9): the command the set-ups run fetches a key (a stand-in curl
// serves one made here), reads its fingerprint with the real gpg (`gpg --show-keys --with-colons`),
// and writes the keyring and the sources line only when it is the pinned one; any other key is
// refused by both fingerprints, with nothing written.

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GRAFANA_APT_KEY, NVIDIA_TOOLKIT_KEY, pinnedKeyCommand } from "../../lib/aptKeys";
import { makeKey } from "../helpers/gpgKey";
import { validator } from "../helpers/sandbox";

const gpg = validator("gpg");

test("the pinned fingerprints are whole v4 fingerprints, fetched over HTTPS", () => {
    for (const k of [GRAFANA_APT_KEY, NVIDIA_TOOLKIT_KEY]) {
        expect(k.fingerprint).toMatch(/^[0-9A-F]{40}$/);
        expect(k.url).toMatch(/^https:\/\//);
    }
});

(gpg ? describe : describe.skip)("pinnedKeyCommand, run by sh with the real gpg", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-aptkey-"));
    const key = makeKey(dir);
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(
        path.join(bin, "curl"),
        `#!/bin/sh\nwhile [ "$1" != -o ]; do shift; done\ncp "${key.file}" "$2"\n`,
        {
            mode: 0o755,
        },
    );
    const repo = {
        keyring: "/keyring.gpg",
        list: "/repo.list",
        line: "deb [signed-by=/keyring.gpg] https://x/ stable main",
    };
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    function run(fingerprint: string) {
        const root = fs.mkdtempSync(path.join(dir, "root-"));
        const cmd = pinnedKeyCommand({ url: "https://vendor.example/key", fingerprint }, repo, root);
        const r = spawnSync("sh", ["-c", cmd], {
            encoding: "utf8",
            env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}`, GNUPGHOME: dir },
        });
        return { ...r, root };
    }

    test("the pinned key: keyring and sources line written", () => {
        const r = run(key.fingerprint);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(fs.readFileSync(path.join(r.root, "repo.list"), "utf8")).toBe(`${repo.line}\n`);
        // A binary keyring that gpg reads back with the same fingerprint.
        expect(
            execFileSync("gpg", ["--show-keys", "--with-colons", path.join(r.root, "keyring.gpg")], {
                encoding: "utf8",
            }),
        ).toContain(`:${key.fingerprint}:`);
    });

    test("any other key: refused by both fingerprints, nothing written", () => {
        const r = run(GRAFANA_APT_KEY.fingerprint);
        expect(r.status).toBe(1);
        expect(r.stderr).toBe(
            `ai-dualstack: the apt key at https://vendor.example/key has fingerprint ${key.fingerprint}, not the pinned ${GRAFANA_APT_KEY.fingerprint}: check the vendor's announcement, then update lib/aptKeys.ts\n`,
        );
        expect(fs.readdirSync(r.root)).toEqual([]);
    });
});
