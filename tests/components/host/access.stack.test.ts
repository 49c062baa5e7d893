// The API identity a stack may create for itself: one role per grant of components/host/privileges.ts,
// each on the paths the environment owns (its pool, storages, PCI mapping, bridges) and on "/" only
// what Proxmox checks there; a user and a privilege-separated token; never Administrator. The
// registered roles and ACLs are checked against the table, and the docs against the same table.

import * as fs from "fs";
import * as path from "path";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { accessNames, accessScope } from "../../../components/host/access";
import { accessGrants, grantRole, privilegeRows, pveumCommands } from "../../../components/host/privileges";
import { EnvironmentName } from "../../../config/schema";
import { planStack } from "../../../testing/planStack";
import { committedPlan } from "../../helpers/planCache";
import { PROJECT_DIR } from "../../../testing/stackFiles";
import { parsedConfig, stackModel } from "../../helpers/config";
import { ofType } from "../../helpers/pulumi";

const managed = (env: EnvironmentName, extra: Record<string, unknown> = {}) => ({
    overrides: { proxmox: { ...parsedConfig(env).proxmox, apiAccess: "managed", ...extra } },
});

const privilegesOf = (plan: Awaited<ReturnType<typeof planStack>>) =>
    ofType(plan.resources, proxmoxve.RoleLegacy).flatMap((r) => r.inputs["privileges"] as string[]);

test("off by default: no identity, but the guests join the environment's pool", async () => {
    const plan = await committedPlan("public");
    expect(ofType(plan.resources, proxmoxve.RoleLegacy)).toEqual([]);
    expect(plan.outputs?.access).toBeUndefined();
    expect(ofType(plan.resources, proxmoxve.PoolLegacy).map((p) => p.inputs["poolId"])).toEqual(["public"]);
    const guests = [
        ...ofType(plan.resources, proxmoxve.VmLegacy),
        ...ofType(plan.resources, proxmoxve.ContainerLegacy),
    ];
    expect(guests.length).toBeGreaterThan(0);
    for (const g of guests) expect(g.inputs["poolId"]).toBe("public");
});

// PVE 9 dropped VM.Monitor; a role naming it is refused with "invalid privilege" (pve-access-control
// commit 0706945 "privileges: drop VM.Monitor", src/PVE/AccessControl.pm $privgroups and
// add_role_privs); PVE 8 has no VM.GuestAgent.* privileges.
test.each([
    [9, "VM.GuestAgent.Audit", "VM.Monitor"],
    [8, "VM.Monitor", "VM.GuestAgent.Audit"],
])("proxmox.majorVersion %i: the guest agent's privilege is %s, never %s", async (major, has, never) => {
    const plan = await planStack("public", managed("public", { majorVersion: major }));
    expect(privilegesOf(plan)).toContain(has);
    expect(privilegesOf(plan)).not.toContain(never);
});

test.each(["private", "public"] as const)(
    "%s: the registered roles and ACLs are exactly the grants of privileges.ts",
    async (env) => {
        const plan = await planStack(env, managed(env));
        const grants = accessGrants(accessScope(stackModel(env)));
        const { user, tokenId } = accessNames(env);
        expect(ofType(plan.resources, proxmoxve.RoleLegacy).map((r) => r.inputs)).toEqual(
            grants.map((g) => ({ roleId: grantRole(env, g), privileges: g.privileges.map((p) => p.privilege) })),
        );
        // The deploy identity's ACLs (AclLegacy); the preview identity's are proxmoxve.Acl (previewAccess.stack.test.ts).
        const acls = ofType(plan.resources, proxmoxve.AclLegacy).map((a) => a.inputs);
        expect(acls).toEqual(
            grants.flatMap((g) =>
                g.paths.flatMap((p) => [
                    { path: p, propagate: g.propagate, roleId: grantRole(env, g), userId: user },
                    { path: p, propagate: g.propagate, roleId: grantRole(env, g), tokenId },
                ]),
            ),
        );
        for (const g of grants) for (const p of g.privileges) expect(p.reason.length).toBeGreaterThan(10);
        expect(plan.outputs?.access).toEqual({ tokenId, apiToken: `${tokenId}=00000000-0000-0000-0000-000000000000` });
    },
);

test("on / only what Proxmox checks there, without propagation; guest and datastore privileges elsewhere", () => {
    for (const env of ["private", "public"] as const) {
        const grants = accessGrants(accessScope(stackModel(env)));
        const root = grants.filter((g) => g.paths.includes("/"));
        expect(root).toHaveLength(1);
        expect(root[0]?.propagate).toBe(false);
        const atRoot = root[0]?.privileges.map((p) => p.privilege);
        // Sys.Modify: cluster firewall (pve-firewall), backup jobs (pve-manager API2/Backup.pm
        // create_job), ZFS create (pve-storage API2/Disks/ZFS.pm); Sys.Audit + Sys.Modify:
        // download-url (pve-storage API2/Storage/Status.pm).
        const monitoring = env === "private" ? ["Permissions.Modify"] : [];
        expect(atRoot).toEqual(["Sys.Audit", "Sys.Modify", ...monitoring]);
        const vmGrants = grants.filter((g) => g.privileges.some((p) => p.privilege.startsWith("VM.")));
        expect(vmGrants.flatMap((g) => g.paths)).toEqual([`/pool/${env}`]);
        for (const g of grants.filter((x) => x.privileges.some((p) => p.privilege.startsWith("Mapping.Use"))))
            expect(g.paths.every((p) => p.startsWith(`/mapping/pci/${env}-`))).toBe(true);
    }
});

/** Whether an ACL on `path` reaches `target`. */
const reaches = (acl: { path: string; propagate: boolean }, target: string) =>
    acl.path === target || (acl.propagate && (acl.path === "/" || target.startsWith(`${acl.path}/`)));

test("a leaked public token reaches no private guest, storage, mapping or bridge", async () => {
    const plan = await planStack("public", managed("public"));
    // Both ACL resources the provider has: the deploy identity's (AclLegacy) and the preview identity's (Acl).
    const publicAcls = [...ofType(plan.resources, proxmoxve.AclLegacy), ...ofType(plan.resources, proxmoxve.Acl)]
        .map((a) => a.inputs as { path: string; propagate: boolean; tokenId?: string })
        .filter((a) => a.tokenId !== undefined);
    const priv = stackModel("private");
    const scope = accessScope(priv);
    const privatePaths = [
        ...[...priv.vms, ...priv.containers].map((g) => `/vms/${g.vmid}`),
        "/pool/private",
        ...scope.storages.map((s) => `/storage/${s}`),
        ...scope.mappings.map((m) => `/mapping/pci/${m}`),
        ...(scope.backupStorage ? [`/storage/${scope.backupStorage}`] : []),
    ];
    expect(privatePaths.length).toBeGreaterThan(5);
    for (const target of privatePaths) {
        expect(publicAcls.filter((a) => reaches(a, target)).map((a) => `${a.path} -> ${target}`)).toEqual([]);
    }
});

// Creating a user needs Realm.AllocateUser on /access/realm/<realm> and User.Modify on
// /access/groups (pve-access-control src/PVE/API2/User.pm create_user, RPCEnvironment.pm
// userid-group); its ACL on / needs Permissions.Modify there (API2/ACL.pm update_acl, perm-modify).
test("the stack that creates the monitoring identity holds what Proxmox checks for it; the other does not", () => {
    const find = (env: EnvironmentName, path: string, privilege: string) =>
        accessGrants(accessScope(stackModel(env))).some(
            (g) => g.paths.includes(path) && g.privileges.some((p) => p.privilege === privilege),
        );
    expect(stackModel("private").monitoring?.server?.hostExporters).toBe(true);
    expect(find("private", "/access/realm/pve", "Realm.AllocateUser")).toBe(true);
    expect(find("private", "/access/groups", "User.Modify")).toBe(true);
    expect(find("private", "/", "Permissions.Modify")).toBe(true);
    expect(stackModel("public").monitoring?.server).toBeUndefined();
    for (const [path, privilege] of [
        ["/access/realm/pve", "Realm.AllocateUser"],
        ["/access/groups", "User.Modify"],
        ["/", "Permissions.Modify"],
    ] as const)
        expect(find("public", path, privilege)).toBe(false);
});

test("the docs show these grants and the pveum commands for each shipped stack", () => {
    const squeeze = (text: string) => text.split("\n").map((l) => l.replace(/ +/g, " ").trim());
    const security = squeeze(fs.readFileSync(path.join(PROJECT_DIR, "docs", "security.md"), "utf8"));
    const deploying = fs.readFileSync(path.join(PROJECT_DIR, "docs", "deploying.md"), "utf8");
    for (const row of privilegeRows()) expect(security).toContain(row.replace(/ +/g, " "));
    for (const env of ["private", "public"] as const) {
        const scope = accessScope(stackModel(env));
        // Every privilege and reason the stack is granted is a row of the table.
        const documented = privilegeRows().map((r) => r.split(" | ").slice(1).join(" | "));
        for (const row of privilegeRows(scope)) expect(documented).toContain(row.split(" | ").slice(1).join(" | "));
        const { user, token } = accessNames(env);
        expect(deploying).toContain(["```sh", ...pveumCommands(scope, user, token), "```"].join("\n   "));
    }
    expect(deploying).not.toMatch(/--roles Administrator|--privs "[^"]*VM\.Monitor/);
});
