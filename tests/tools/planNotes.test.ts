// The plan's notes: a warning repeated for several config paths folds into one line; others stay.

import { groupNotes } from "../../tools/planNotes";

const KEY =
    "is the repository's example key, which opens nothing; put your own public key here (`pulumi up` refuses it)";
const UNSET = (k: string) =>
    `${k} is not set; the plan uses a placeholder (set it with \`pulumi config set --secret ${k}\` before \`pulumi up\`)`;

test("the same warning for several paths is one line, with the count and the paths in order, where the first was", () => {
    const notes = [
        UNSET("ai-dualstack:proxmoxApiToken"),
        UNSET("ai-dualstack:sshPrivateKey"),
        "the hosts are assumed ready (no reboot pending): the offline plan contacts no host",
        `warning: ai-dualstack:vms.private-ai.cloudInit.sshPublicKeys[0]: ${KEY}`,
        "warning: ai-dualstack:containers.private-cicd.runner.repository: is the repository's example; name your own GitHub repository (`pulumi up` refuses it)",
        `warning: ai-dualstack:containers.private-postgres.sshPublicKeys[0]: ${KEY}`,
        `warning: ai-dualstack:containers.private-postgres.sshPublicKeys[0]: ${KEY}`,
        `warning: ai-dualstack:containers.private-redis.sshPublicKeys[0]: ${KEY}`,
    ];
    expect(groupNotes(notes)).toEqual([
        "<name> is not set; the plan uses a placeholder (set it with `pulumi config set --secret <name>` before `pulumi up`) (2 times; <name>: ai-dualstack:proxmoxApiToken, ai-dualstack:sshPrivateKey)",
        "the hosts are assumed ready (no reboot pending): the offline plan contacts no host",
        `warning: <name>: ${KEY} (3 times; <name>: ai-dualstack:vms.private-ai.cloudInit.sshPublicKeys[0], ai-dualstack:containers.private-postgres.sshPublicKeys[0], ai-dualstack:containers.private-redis.sshPublicKeys[0])`,
        "warning: ai-dualstack:containers.private-cicd.runner.repository: is the repository's example; name your own GitHub repository (`pulumi up` refuses it)",
    ]);
});

test("a warning said once, or differing in more than its path, is printed as written", () => {
    const notes = [
        "warning: ai-dualstack:a.endpoint: vpn.example.com is an example domain (RFC 2606) that points nowhere",
        "warning: ai-dualstack:b.host: chat.example.com is an example domain (RFC 2606) that points nowhere",
    ];
    expect(groupNotes(notes)).toEqual(notes);
});
