// docs/monitoring.md lists every alert with its severity and its whole runbook line, and every
// dashboard, so the page cannot fall behind the rules.

import * as fs from "fs";
import * as path from "path";
import { ALERT_RULES } from "../../../components/monitoring/alerts";
import { DASHBOARDS } from "../../../components/monitoring/dashboards";

const doc = fs.readFileSync(path.join(__dirname, "..", "..", "..", "docs", "monitoring.md"), "utf8");

test("every alert is in docs/monitoring.md with its severity and runbook", () => {
    for (const r of ALERT_RULES) {
        const row = doc.split("\n").find((l) => l.startsWith(`| \`${r.alert}\` `));
        // The cells, trimmed (prettier pads them); "\|" is a pipe inside a cell.
        const cells = (row ?? "").split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
        expect(cells.slice(1, 5)).toEqual([
            `\`${r.alert}\``,
            r.severity,
            expect.stringContaining(r.expr) as string,
            r.runbook,
        ]);
    }
});

test("every dashboard is named in docs/monitoring.md", () => {
    for (const d of DASHBOARDS) expect(doc).toContain(`**${d.title.replace("ai-dualstack: ", "")}**`);
});
