import { couldNotCheckPolicy } from "../../policy/coverage";
import {
    cloudInitCoverage,
    cloudInitNoPasswordSsh,
    containerHealthcheck,
    containerMemoryLimit,
    imagesPinned,
    keyMaterialOnlyInCredentials,
    unpinnedReason,
} from "../../policy/hygiene";
import { containerInputs, rec, T, violations } from "./fixtures";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const TOKEN = "pulumi@pve!ci=0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const USER_DATA = "#cloud-config\nhostname: public-ai\nssh_pwauth: false\ndisable_root: true\n";

describe("hygiene", () => {
    test.each([
        ["ollama/ollama:0.11.4", undefined],
        ["ghcr.io/open-webui/open-webui:v0.6.5", undefined],
        [`qdrant/qdrant@sha256:${"a".repeat(64)}`, undefined],
        ["ollama/ollama:latest", "is tagged :latest"],
        ["ollama/ollama", "has no tag (means :latest)"],
        ["localhost:5000/app", "has no tag (means :latest)"],
    ])("image %s", (image, reason) => {
        expect(unpinnedReason(image)).toBe(reason);
    });

    test("an unpinned image and container", async () => {
        const image = rec(T.image, "img", { name: "ollama/ollama:latest" });
        const container = rec(T.container, "c", { ...containerInputs(), image: "ollama/ollama" });
        expect(await violations(imagesPinned, [image, container])).toEqual([
            "images-pinned: image ollama/ollama:latest is tagged :latest",
            "images-pinned: container image ollama/ollama has no tag (means :latest)",
        ]);
        expect(await violations(imagesPinned, [rec(T.image, "img", { name: "ollama/ollama:0.11.4" })])).toEqual([]);
    });

    test("a container without a healthcheck, or with an empty one", async () => {
        const { healthcheck: _h, ...none } = containerInputs();
        expect(await violations(containerHealthcheck, [rec(T.container, "c", containerInputs())])).toEqual([]);
        expect(await violations(containerHealthcheck, [rec(T.container, "c", none)])).toEqual([
            "container-healthcheck: container ollama has no healthcheck",
        ]);
        const empty = { ...containerInputs(), healthcheck: { tests: [] } };
        expect(await violations(containerHealthcheck, [rec(T.container, "c", empty)])).toEqual([
            "container-healthcheck: container ollama has a healthcheck with no test",
        ]);
    });

    test("a container without a memory limit (advisory)", async () => {
        const { memory: _m, ...none } = containerInputs();
        expect(await violations(containerMemoryLimit, [rec(T.container, "c", containerInputs())])).toEqual([]);
        expect(await violations(containerMemoryLimit, [rec(T.container, "c", none)])).toEqual([
            "container-memory-limit: container ollama has no memory limit",
        ]);
        expect(containerMemoryLimit.enforcementLevel).toBe("advisory");
    });

    test("cloud-init user data allowing SSH passwords", async () => {
        const file = (data: string) =>
            rec(T.file, "ud", { contentType: "snippets", sourceRaw: { fileName: "ud.yaml", data } });
        expect(await violations(cloudInitNoPasswordSsh, [file(USER_DATA)])).toEqual([]);
        expect(
            await violations(cloudInitNoPasswordSsh, [
                file(USER_DATA.replace("ssh_pwauth: false", "ssh_pwauth: true")),
            ]),
        ).toEqual(["cloud-init-no-password-ssh: ud.yaml does not set ssh_pwauth: false"]);
        expect(await violations(cloudInitNoPasswordSsh, [file("#!/bin/sh\necho not cloud-config\n")])).toEqual([]);
    });

    test("a snippet uploaded from a file is reported as unchecked, not passed", async () => {
        const fromFile = rec(T.file, "ud", { contentType: "snippets", sourceFile: { path: "/tmp/user-data.yaml" } });
        const covered = couldNotCheckPolicy([], [cloudInitCoverage]);
        expect(await violations(cloudInitNoPasswordSsh, [fromFile])).toEqual([]);
        expect(await violations(covered, [fromFile])).toEqual([
            "policy-could-not-check: cloud-init-no-password-ssh could not check ud: a file uploaded from /tmp/user-data.yaml (sourceFile), which the pack cannot read",
        ]);
        const raw = rec(T.file, "ud", { contentType: "snippets", sourceRaw: { fileName: "ud.yaml", data: USER_DATA } });
        expect(await violations(covered, [raw])).toEqual([]);
    });

    test("key material in a credential input passes; anywhere else it fails", async () => {
        const ok = [
            rec(T.command, "cmd", { connection: { host: "10.20.20.10", privateKey: KEY }, create: "true" }),
            rec("pulumi:providers:proxmoxve", "prov", { apiToken: TOKEN, ssh: JSON.stringify({ privateKey: KEY }) }),
            // The engine gives the dynamic provider the stack's config (seen under the real engine, tests/e2e).
            rec("pulumi:providers:pulumi-nodejs", "default", { "ai-dualstack:sshPrivateKey": KEY }),
        ];
        expect(await violations(keyMaterialOnlyInCredentials, ok)).toEqual([]);
        const leaks = [
            rec(T.command, "cmd", { connection: { privateKey: KEY }, create: `echo '${KEY}' > key` }),
            rec(T.container, "c", { ...containerInputs(), envs: [`PVE_TOKEN=${TOKEN}`] }),
            rec("pulumi:providers:proxmoxve", "prov", { endpoint: "https://pve:8006/", insecure: KEY }),
        ];
        expect(await violations(keyMaterialOnlyInCredentials, leaks)).toEqual([
            "key-material-only-in-credentials: key material in input create",
            "key-material-only-in-credentials: key material in input envs[0]",
            "key-material-only-in-credentials: key material in input insecure",
        ]);
    });
});
