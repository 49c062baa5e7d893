// The API identity a stack may create for itself: a role of only the privileges the program uses,
// a user, a privilege-separated token and their ACLs; never Administrator.

import * as fs from "fs";
import * as path from "path";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { DEPLOY_PRIVILEGES, accessNames } from "../../../components/host/access";
import { planStack } from "../../../testing/planStack";
import { committedPlan } from "../../helpers/planCache";
import { PROJECT_DIR } from "../../../testing/stackFiles";
import { parsedConfig } from "../../helpers/config";
import { one, ofType } from "../../helpers/pulumi";

const managed = { proxmox: { ...parsedConfig("public").proxmox, apiAccess: "managed" } };

test("off by default: the stacks deploy with the token you made", async () => {
    const plan = await committedPlan("public");
    expect(ofType(plan.resources, proxmoxve.RoleLegacy)).toEqual([]);
    expect(plan.outputs?.access).toBeUndefined();
});

test("managed: a role of the listed privileges only, a user and a privilege-separated token, each with its ACL", async () => {
    const plan = await planStack("public", { overrides: managed });
    const role = one(plan.resources, proxmoxve.RoleLegacy);
    expect(role.inputs).toEqual({
        roleId: "AiDualstackPublic",
        privileges: DEPLOY_PRIVILEGES.map((p) => p.privilege),
    });
    // What Administrator has and this role has not: no users, permissions, realms, consoles, power.
    const privileges = role.inputs["privileges"] as string[];
    for (const never of [
        "Permissions.Modify",
        "User.Modify",
        "Realm.Allocate",
        "Sys.PowerMgmt",
        "Sys.Console",
        "VM.Console",
    ]) {
        expect(privileges).not.toContain(never);
    }
    expect(DEPLOY_PRIVILEGES.every((p) => p.purpose.length > 10)).toBe(true);
    expect(one(plan.resources, proxmoxve.UserLegacy).inputs).toMatchObject({
        userId: "aids-public@pve",
        enabled: true,
    });
    const token = one(plan.resources, proxmoxve.user.TokenLegacy);
    expect(token.inputs).toMatchObject({ userId: "aids-public@pve", tokenName: "pulumi", privilegesSeparation: true });
    const acls = ofType(plan.resources, proxmoxve.AclLegacy).map((a) => a.inputs);
    expect(acls).toEqual([
        { path: "/", propagate: true, roleId: "AiDualstackPublic", userId: "aids-public@pve" },
        { path: "/", propagate: true, roleId: "AiDualstackPublic", tokenId: "aids-public@pve!pulumi" },
    ]);
    expect(plan.outputs?.access).toEqual({
        tokenId: "aids-public@pve!pulumi",
        apiToken: "aids-public@pve!pulumi=00000000-0000-0000-0000-000000000000",
    });
    expect(accessNames("private").role).toBe("AiDualstackPrivate");
});

test("the docs list exactly these privileges, each with its purpose", () => {
    const security = fs.readFileSync(path.join(PROJECT_DIR, "docs", "security.md"), "utf8");
    // Table cells as prettier pads them: compare with the padding squeezed out.
    const rows = security.split("\n").map((l) => l.replace(/ +/g, " "));
    for (const p of DEPLOY_PRIVILEGES) expect(rows).toContain(`| \`${p.privilege}\` | ${p.purpose} |`);
    const deploying = fs.readFileSync(path.join(PROJECT_DIR, "docs", "deploying.md"), "utf8");
    expect(deploying).toContain(
        `pveum role add AiDualstack --privs "${DEPLOY_PRIVILEGES.map((p) => p.privilege).join(",")}"`,
    );
    expect(deploying).not.toMatch(/--roles Administrator/);
});
