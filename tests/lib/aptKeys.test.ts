// The pinned apt keys (issue 19, item 9): the command the set-ups run fetches a key (a stand-in curl
// serves one made here), reads its fingerprint with the real gpg (`gpg --show-keys --with-colons`),
// and writes the keyring and the sources line only when it is the pinned one; any other key is
// refused by both fingerprints, with nothing written.

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GRAFANA_APT_KEY, NVIDIA_TOOLKIT_KEY, PROXMOX_RELEASE_KEYS, pinnedKeyCommand } from "../../lib/aptKeys";
import { makeKey } from "../helpers/gpgKey";
import { validator } from "../helpers/sandbox";

const gpg = validator("gpg");

test("the pinned fingerprints are whole v4 fingerprints, fetched over HTTPS", () => {
    for (const k of [GRAFANA_APT_KEY, NVIDIA_TOOLKIT_KEY, ...Object.values(PROXMOX_RELEASE_KEYS)]) {
        expect(k.fingerprint).toMatch(/^[0-9A-F]{40}$/);
        for (const c of k.companions ?? []) expect(c).toMatch(/^[0-9A-F]{40}$/);
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

// A vendor keyring that carries the previous release's key beside its own (Proxmox's trixie keyring,
// pve-docs pve-package-repos.adoc "SecureApt", may hold the bookworm key): the pinned key exactly
// once, each other key a pinned companion, anything else refused.
(gpg ? describe : describe.skip)("pinnedKeyCommand with companions", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-aptkey-ring-"));
    const [a, b, c] = ["a", "b", "c"].map((n) => makeKey(fs.mkdtempSync(path.join(dir, `${n}-`)))) as [
        ReturnType<typeof makeKey>,
        ReturnType<typeof makeKey>,
        ReturnType<typeof makeKey>,
    ];
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "curl"), `#!/bin/sh\nwhile [ "$1" != -o ]; do shift; done\ncp "$AIDS_KEY" "$2"\n`, {
        mode: 0o755,
    });
    const repo = {
        keyring: "/keyring.gpg",
        list: "/repo.list",
        line: "deb [signed-by=/keyring.gpg] https://x/ s main",
    };
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    function run(served: readonly { file: string }[], companions?: string[]) {
        const root = fs.mkdtempSync(path.join(dir, "root-"));
        const ring = path.join(root, "..", `${path.basename(root)}.asc`);
        fs.writeFileSync(ring, served.map((k) => fs.readFileSync(k.file, "utf8")).join(""));
        const key = {
            url: "https://vendor.example/ring",
            fingerprint: a.fingerprint,
            ...(companions ? { companions } : {}),
        };
        const r = spawnSync("sh", ["-c", pinnedKeyCommand(key, repo, root)], {
            encoding: "utf8",
            env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}`, GNUPGHOME: dir, AIDS_KEY: ring },
        });
        return { ...r, written: fs.readdirSync(root).sort() };
    }

    test("the pinned key with its companion: written", () => {
        const r = run([a, b], [b.fingerprint]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.written).toEqual(["keyring.gpg", "repo.list"]);
    });

    test.each([
        [
            "a second key nobody pinned as a companion",
            () => [a, b],
            () => undefined,
            () => `${a.fingerprint}\n${b.fingerprint}`,
        ],
        [
            "a key that is not the companion",
            () => [a, c],
            () => [b.fingerprint],
            () => `${a.fingerprint} ${c.fingerprint}`,
        ],
        ["the companion alone", () => [b], () => [b.fingerprint], () => b.fingerprint],
    ])("refused, nothing written: %s", (_what, served, companions, found) => {
        const r = run(served(), companions());
        expect(r.status).toBe(1);
        const pinned = companions() ? `${a.fingerprint} (beside, at most, ${b.fingerprint})` : a.fingerprint;
        expect(r.stderr).toBe(
            `ai-dualstack: the apt key at https://vendor.example/ring has fingerprint ${found()}, not the pinned ${pinned}: check the vendor's announcement, then update lib/aptKeys.ts\n`,
        );
        expect(r.written).toEqual([]);
    });
});
