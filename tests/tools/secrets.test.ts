// The secrets generator's plain parts: the form of each secret, generated values of that form, the
// plan (keep, generate, copy the shared PBS password, ask), and a run over the repository's stack
// files with a recording stand-in for the Pulumi CLI. The real CLI is in secrets.live.test.ts.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { wgPublicKey } from "../../lib/wireguard";
import { PROJECT_DIR } from "../../testing/stackFiles";
import { main, parseArgs } from "../../tools/secrets";
import {
    StackSecretsView,
    generateSecret,
    planSecrets,
    runnerTokenPage,
    secretForm,
    sharedSecrets,
} from "../../tools/secretsPlan";

test("each secret's form follows the field that names it", () => {
    expect(secretForm("x", ["containers.sec.wireguard.privateKeySecret"])).toBe("wireguard");
    expect(secretForm("x", ["containers.ci.runner.tokenSecret"])).toBe("runnerToken");
    expect(secretForm("x", ["monitoring.alertReceiver.webhookUrlSecret"])).toBe("provided");
    expect(secretForm("x", ["backup.server.offsite.passwordSecret"])).toBe("provided");
    expect(secretForm("x", ["containers.db.postgres.databases.app.passwordSecret"])).toBe("password");
    expect(secretForm("adminPassword", ["vms.ai.services.webui.secretEnvironment.PW"])).toBe("password");
    expect(secretForm("apiKey", ["vms.ai.services.qdrant.secretEnvironment.KEY"])).toBe("token");
});

test("generated values have their form, and differ run to run", () => {
    const password = generateSecret("password");
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(generateSecret("password")).not.toBe(password);
    expect(generateSecret("token")).toMatch(/^[0-9a-f]{64}$/);
    const wg = generateSecret("wireguard");
    expect(wgPublicKey(wg)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const raw = Buffer.from(wg, "base64");
    expect([(raw[0] as number) & 7, (raw[31] as number) & 0xc0]).toEqual([0, 64]);
});

test("a password never draws from the biased top bytes", () => {
    // All 0xff first: every byte is rejected until the 0x00s come, which give "A".
    let calls = 0;
    const random = (n: number) => Buffer.alloc(n, calls++ === 0 ? 0xff : 0x00);
    expect(generateSecret("password", random)).toBe("A".repeat(32));
    expect(calls).toBe(2);
});

const privateView: StackSecretsView = {
    stack: "private",
    environment: "private",
    uses: [
        { path: "backup.server.datastores.private.passwordSecret", name: "pbsPrivate" },
        { path: "backup.server.datastores.public.passwordSecret", name: "pbsPublicServer" },
        { path: "backup.pbs.passwordSecret", name: "pbsPrivate" },
        { path: "containers.ci.runner.tokenSecret", name: "runner" },
        { path: "containers.sec.wireguard.privateKeySecret", name: "wg" },
    ],
    set: new Set(["wg"]),
    repositories: new Map([["runner", "me/lab"]]),
};
const publicView: StackSecretsView = {
    stack: "public",
    environment: "public",
    uses: [{ path: "backup.pbs.passwordSecret", name: "pbsPublicClient" }],
    set: new Set(),
};

test("the PBS password a datastore's user logs in with is shared between the two stacks, both ways", () => {
    expect([...sharedSecrets(privateView, [publicView])]).toEqual([
        ["pbsPublicServer", { stack: "public", name: "pbsPublicClient" }],
    ]);
    expect([...sharedSecrets(publicView, [privateView])]).toEqual([
        ["pbsPublicClient", { stack: "private", name: "pbsPublicServer" }],
    ]);
});

test("the plan keeps what is set, generates the rest, asks for the runner token and copies a shared value", () => {
    const steps = planSecrets(privateView, [publicView]);
    expect(steps.map((s) => [s.name, s.action, s.form])).toEqual([
        ["pbsPrivate", "generate", "password"],
        ["pbsPublicServer", "generate", "password"],
        ["runner", "ask", "runnerToken"],
        ["wg", "keep", "wireguard"],
    ]);
    expect(steps[2]?.repository).toBe("me/lab");
    const fromPeer = planSecrets(publicView, [{ ...privateView, set: new Set(["pbsPublicServer"]) }]);
    expect(fromPeer).toEqual([
        {
            name: "pbsPublicClient",
            form: "password",
            action: "copy",
            shared: { stack: "private", name: "pbsPublicServer" },
        },
    ]);
    // --rotate replaces a set value; a rotated shared one is generated anew, not copied back.
    expect(planSecrets(privateView, [publicView], new Set(["wg"]))[3]?.action).toBe("generate");
    const rotated = planSecrets(
        publicView,
        [{ ...privateView, set: new Set(["pbsPublicServer"]) }],
        new Set(["pbsPublicClient"]),
    );
    expect(rotated[0]?.action).toBe("generate");
});

test("the runner token's page is GitHub's new fine-grained token page", () => {
    expect(runnerTokenPage("me/lab")).toBe("https://github.com/settings/personal-access-tokens/new");
});

test("arguments: one stack, repeated --rotate, --help", () => {
    expect(parseArgs(["private", "--rotate", "a", "--rotate", "b"], "/p")).toEqual({
        stack: "private",
        rotate: new Set(["a", "b"]),
        projectDir: "/p",
    });
    expect(parseArgs(["--help"], "/p")).toBe("help");
    expect(() => parseArgs([], "/p")).toThrow("name a stack");
    expect(() => parseArgs(["private", "--rotate"], "/p")).toThrow("--rotate takes a value");
});

/** A copy of the repository's stack files, and a CLI stand-in that records what is set (values kept apart). */
function fakeProject() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-secrets-"));
    for (const f of ["Pulumi.yaml", "Pulumi.private.yaml", "Pulumi.public.yaml"])
        fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    const values = new Map<string, string>();
    const cli = {
        set: (stack: string, name: string, value: string) => void values.set(`${stack}/${name}`, value),
        get: (stack: string, name: string) => values.get(`${stack}/${name}`) ?? "",
    };
    return { dir, values, cli };
}

test("a run over the repository's private stack sets each generated secret, prints names and never a value", async () => {
    const { dir, values, cli } = fakeProject();
    const lines: string[] = [];
    const code = await main(["private", "--project-dir", dir], { cli, log: (l) => lines.push(l), ask: undefined });
    expect(code).toBe(1); // the runner token, the webhook URL and the key secrets are the user's
    const out = lines.join("\n");
    for (const name of ["qdrantApiKey", "postgresPassword", "wireguardPrivateKey", "pbsPublicPassword"]) {
        expect(values.has(`private/${name}`)).toBe(true);
        expect(out).toContain(`set ${name} `);
    }
    // The shared PBS password went into the public stack too, with the same value.
    expect(values.get("public/pbsPublicPassword")).toBe(values.get("private/pbsPublicPassword"));
    for (const value of values.values()) expect(out).not.toContain(value);
    expect(out).toContain("https://github.com/settings/personal-access-tokens/new");
    expect(out).toMatch(/still missing in the private stack: .*runnerRegistrationToken/);
    expect(values.has("private/runnerRegistrationToken")).toBe(false);
});

test("on a terminal the runner token is asked for and stored as given", async () => {
    const { dir, values, cli } = fakeProject();
    const questions: string[] = [];
    const ask = (q: string) => {
        questions.push(q);
        return Promise.resolve(q.startsWith("runnerRegistrationToken") ? "AAAATOKEN" : "");
    };
    await main(["private", "--project-dir", dir], { cli, log: () => undefined, ask });
    expect(values.get("private/runnerRegistrationToken")).toBe("AAAATOKEN");
    expect(questions.find((q) => q.startsWith("runnerRegistrationToken"))).toContain(
        runnerTokenPage("your-github-user/ai-dualstack"),
    );
});

test("--rotate of a name the stack does not use is refused", async () => {
    const { dir, cli } = fakeProject();
    const err = jest.spyOn(console, "error").mockImplementation(() => undefined);
    expect(await main(["public", "--rotate", "nope", "--project-dir", dir], { cli, log: () => undefined })).toBe(1);
    expect(err.mock.calls.flat().join("")).toContain("--rotate nope: the public stack's config names no such secret");
    err.mockRestore();
});
