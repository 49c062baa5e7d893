// The CrossGuard pack the engine loads (`pulumi preview --policy-pack policy`): constructing the
// PolicyPack starts its analyzer server, so only the engine imports this file.

import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, { policies });
