// A stand-in for the docker resource plugin, which cannot be built here (its sources need a git submodule): a
// Node.js provider that takes every input as given (Check), plans creates, and refuses to create anything. On
// PATH as `pulumi-resource-docker`, the engine runs it in place of the real plugin (an ambient plugin), so a preview
// of the whole program, services included, reaches the policy pack. The engine loads the plugin even where it never
// configures it: the program's docker provider dials the VM, whose address is unknown until the VM exists, and with
// its config unknown the engine skips the provider in a preview (docker resources then reach a stack policy with no
// values at all); a test that gives the provider a known host gets the planned values.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "./stackFiles";

/** The docker SDK's version, which the engine asks the plugin for. */
function dockerSdkVersion(): string {
    const pkg = path.join(PROJECT_DIR, "node_modules", "@pulumi", "docker", "package.json");
    return (JSON.parse(fs.readFileSync(pkg, "utf8")) as { version: string }).version;
}

/**
 * The plugin: a gRPC ResourceProvider served with the protocol's own generated code from @pulumi/pulumi. It supports
 * preview, as the real (bridged) docker provider does, so a preview's planned outputs are the checked inputs, which a
 * stack policy reads; outside a preview it refuses to create anything.
 */
function providerSource(): string {
    const pulumiDir = path.join(PROJECT_DIR, "node_modules", "@pulumi", "pulumi");
    const from = (request: string) => JSON.stringify(require.resolve(request, { paths: [pulumiDir] }));
    const proto = (file: string) => JSON.stringify(path.join(pulumiDir, "proto", file));
    return `"use strict";
// Written by testing/dockerStandIn.ts: the docker provider's stand-in, for previews only.
const grpc = require(${from("@grpc/grpc-js")});
const rpc = require(${proto("provider_grpc_pb.js")});
const pb = require(${proto("provider_pb.js")});
const plugin = require(${proto("plugin_pb.js")});
const { Empty } = require(${from("google-protobuf/google/protobuf/empty_pb.js")});

const unimplemented = (what) => (_call, done) => done({ code: grpc.status.UNIMPLEMENTED, details: what });
const server = new grpc.Server();
server.addService(rpc.ResourceProviderService, {
    getPluginInfo: (_call, done) => done(null, new plugin.PluginInfo().setVersion(${JSON.stringify(dockerSdkVersion())})),
    getSchema: (_call, done) => done(null, new pb.GetSchemaResponse().setSchema("{}")),
    checkConfig: unimplemented("CheckConfig"),
    diffConfig: unimplemented("DiffConfig"),
    configure: (_call, done) =>
        done(null, new pb.ConfigureResponse().setAcceptsecrets(true).setAcceptresources(true).setSupportspreview(true)),
    check: (call, done) => done(null, new pb.CheckResponse().setInputs(call.request.getNews())),
    diff: (_call, done) => done(null, new pb.DiffResponse().setChanges(pb.DiffResponse.DiffChanges.DIFF_NONE)),
    create: (call, done) =>
        call.request.getPreview()
            ? done(null, new pb.CreateResponse().setProperties(call.request.getProperties()))
            : done({ code: grpc.status.FAILED_PRECONDITION, details: "the docker stand-in creates nothing: it serves previews only" }),
    cancel: (_call, done) => done(null, new Empty()),
    attach: (_call, done) => done(null, new Empty()),
});
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    console.log(String(port));
});
`;
}

export interface DockerStandIn {
    /** The environment that puts the stand-in on the engine's PATH. */
    envVars: Record<string, string>;
    dispose(): void;
}

/** Writes the stand-in plugin into a temporary folder. */
export function dockerStandIn(): DockerStandIn {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-docker-standin-"));
    const js = path.join(dir, "provider.js");
    fs.writeFileSync(js, providerSource());
    const plugin = path.join(dir, "pulumi-resource-docker");
    fs.writeFileSync(plugin, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(js)} "$@"\n`, {
        mode: 0o755,
    });
    return {
        envVars: { PATH: `${dir}${path.delimiter}${process.env["PATH"] ?? ""}` },
        dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}
