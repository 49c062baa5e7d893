// Project-level monitoring (Pulumi.yaml): which container runs Prometheus, Alertmanager and Grafana,
// the address every stack admits to its exporters, retention, the alert receiver and pinned versions.

import { z } from "zod";
import { d, flag, ipv4, label, secretRef } from "./fields";

const secretName = (description: string) =>
    secretRef(
        description,
        z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be a serviceSecrets name such as "alertWebhookUrl"'),
    );

export const AlertReceiverSchema = z
    .strictObject({
        webhookUrlSecret: secretName(
            "The serviceSecrets name holding a webhook URL that Alertmanager posts alerts to.",
        ).optional(),
        email: z
            .strictObject({
                to: z.email().meta(d("Who gets the alerts.")),
                from: z.email().meta(d("The sender address.")),
                smarthost: z
                    .string()
                    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be "host:port", such as "smtp.example.com:587"')
                    .meta(d("The SMTP server, host:port (STARTTLS required).")),
                usernameSecret: secretName("The serviceSecrets name holding the SMTP user.").optional(),
                passwordSecret: secretName("The serviceSecrets name holding the SMTP password.").optional(),
            })
            .optional()
            .meta(d("Alerts by email.")),
    })
    .refine((r) => (r.webhookUrlSecret === undefined) !== (r.email === undefined), {
        message: "set exactly one of webhookUrlSecret and email",
    })
    .meta(d("Where Alertmanager sends alerts: a webhook URL or SMTP, both from serviceSecrets."));

export const MonitoringVersionsSchema = z
    .strictObject({
        prometheus: z
            .string()
            .default("2.42.0")
            .meta(d("Oldest Debian version of prometheus accepted; the guest's own suite provides it, never held.")),
        alertmanager: z
            .string()
            .default("0.25.0")
            .meta(d("Oldest Debian version of prometheus-alertmanager accepted; from the guest's suite, never held.")),
        nodeExporter: z
            .string()
            .default("1.5.0")
            .meta(
                d(
                    "Oldest Debian version of prometheus-node-exporter accepted (containers and the host); from each one's suite, never held.",
                ),
            ),
        grafana: z
            .string()
            .default("12.1.1")
            .meta(d("Package version from Grafana's apt repository, installed exactly.")),
        pveExporter: z
            .string()
            .default("3.5.5")
            .meta(d("PyPI version of prometheus-pve-exporter, installed on the host in its own venv.")),
    })
    .default({
        prometheus: "2.42.0",
        alertmanager: "0.25.0",
        nodeExporter: "1.5.0",
        grafana: "12.1.1",
        pveExporter: "3.5.5",
    })
    .meta(
        d(
            "Versions. Debian's packages are floors: exact revisions (1.5.0-1+b6) exist in one suite only, so each comes from the system's own suite (bookworm on Proxmox VE 8, trixie on 9), at least this version, and is never held, so security updates keep coming. Grafana and the PVE exporter are installed exactly. A change re-runs the set-up.",
        ),
    );

export const MonitoringSchema = z
    .strictObject({
        container: label.meta(
            d(
                "The monitoring container (a containers key, role monitoring) of the stack that runs it; that stack installs Prometheus, Alertmanager and Grafana in it.",
            ),
        ),
        address: ipv4.meta(
            d(
                "That container's address. Every stack admits it, as a /32 and nothing wider, to its guests' exporters and the public VM's trusted-only metrics routes.",
            ),
        ),
        peerStacks: z
            .array(label)
            .default([])
            .meta(
                d(
                    "Other stacks whose guests it scrapes too, read from their Pulumi.<stack>.yaml: a guest added there becomes a target at the next `up` of the monitoring stack.",
                ),
            ),
        scrapeIntervalSeconds: z
            .number()
            .int()
            .min(5)
            .max(300)
            .default(30)
            .meta(d("How often Prometheus scrapes every target.")),
        retentionDays: z.number().int().positive().default(30).meta(d("How long Prometheus keeps samples.")),
        retentionSizeGiB: z
            .number()
            .int()
            .positive()
            .default(20)
            .meta(
                d("The most disk Prometheus's samples may take; it must fit the container's disk with 4 GiB to spare."),
            ),
        grafanaAdminPasswordSecret: secretName(
            "The serviceSecrets name holding Grafana's admin password (reset to it on every set-up).",
        ).default("grafanaAdminPassword"),
        alertReceiver: AlertReceiverSchema,
        hostExporters: flag(
            true,
            "Install node-exporter (with the ZFS collector and the pool-status textfile) and prometheus-pve-exporter on each node the stack touches, with a read-only PVEAuditor token.",
        ),
        versions: MonitoringVersionsSchema,
    })
    .optional()
    .meta(
        d("Prometheus, Alertmanager and Grafana in one service container, and what they watch (docs/monitoring.md)."),
    );

export type MonitoringConfig = NonNullable<z.infer<typeof MonitoringSchema>>;
