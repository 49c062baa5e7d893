// The networks of a VM's services (components/workload/spec.ts, serviceNetworks) and how the compose
// file renders them: per service, and every network declared; compose-go accepts the result.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { renderCompose } from "../../../components/workload/composeFile";
import { networksOf, serviceNetworks, workloadSpec } from "../../../components/workload/spec";
import { EnvironmentName } from "../../../config/schema";
import { stackModel } from "../../helpers/config";
import { validator } from "../../helpers/sandbox";

const svc = (dependsOn: string[] = [], clients?: string[]) => ({ dependsOn, ...(clients ? { clients } : {}) });

test("a service with clients is on its own network with its clients and dependencies, off the shared one", () => {
    const networks = serviceNetworks("vm", {
        db: svc(),
        web: svc(["db"]),
        api: svc(["db"], ["web"]),
        batch: svc([], []),
        other: svc(),
    });
    expect(networks).toEqual({
        ai: { name: "vm-net", members: ["db", "web", "other"] },
        "api-net": { name: "vm-api-net", members: ["db", "web", "api"] },
        // No clients at all: only itself.
        "batch-net": { name: "vm-batch-net", members: ["batch"] },
    });
    expect(networksOf({ networks }, "web")).toEqual(["ai", "api-net"]);
    expect(networksOf({ networks }, "api")).toEqual(["api-net"]);
    expect(networksOf({ networks }, "other")).toEqual(["ai"]);
});

type ComposeDoc = {
    services: Record<string, { networks: string[] }>;
    networks: Record<string, { name: string; driver: string; internal?: boolean }>;
};
const render = (env: EnvironmentName) => {
    const model = stackModel(env);
    const vm = model.vms[0];
    if (!vm) throw new Error(`the ${env} stack has no VM`);
    return renderCompose(workloadSpec(vm, env, model.network.trustedSources));
};

test("the compose file puts each service on its networks and declares each, none internal", () => {
    const priv = parse(render("private")) as ComposeDoc;
    expect(priv.networks).toEqual({
        ai: { name: "private-ai-net", driver: "bridge" },
        "rag-answer-net": { name: "private-ai-rag-answer-net", driver: "bridge" },
        "searxng-net": { name: "private-ai-searxng-net", driver: "bridge" },
    });
    expect(priv.services["rag-answer"]?.networks).toEqual(["rag-answer-net"]);
    expect(priv.services["searxng"]?.networks).toEqual(["searxng-net"]);
    expect(priv.services["open-webui"]?.networks).toEqual(["ai", "rag-answer-net", "searxng-net"]);
    expect(priv.services["ollama"]?.networks).toEqual(["ai", "rag-answer-net"]);
    expect(priv.services["jupyter"]?.networks).toEqual(["ai"]);
    const pub = parse(render("public")) as ComposeDoc;
    expect(pub.services["searxng"]?.networks).toEqual(["searxng-net"]);
    expect(pub.services["chat"]?.networks).toEqual(["ai", "searxng-net"]);
    expect(pub.services["proxy"]?.networks).toEqual(["ai"]);
});

describe("compose-go", () => {
    const tool = validator("compose-validate");
    const maybe = tool ? test : test.skip;
    maybe("accepts the isolated networks, and rejects a service on an undeclared one", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-networks-"));
        const check = (text: string) => {
            const file = path.join(dir, "docker-compose.yml");
            fs.writeFileSync(file, text);
            return spawnSync(tool as string, [file], { encoding: "utf8" });
        };
        const text = render("private");
        expect(check(text)).toMatchObject({ status: 0, stderr: "" });
        const broken = text.replace(/^ {2}searxng-net:\n(?: {4}.*\n)+/m, "");
        expect(broken).not.toBe(text);
        const run = check(broken);
        expect(run.status).toBe(1);
        expect(run.stderr).toMatch(/undefined network searxng-net/);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
