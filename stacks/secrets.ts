// Which secret Outputs each component gets: the wiring reads the names the model holds and hands each
// component its values (config/resolve/secrets.ts made them, one per name the config uses), so no
// component looks a secret up by name. A name that is not set never gets here: the config rules refuse it.

import * as pulumi from "@pulumi/pulumi";
import { LoadedStack } from "../config/load";
import { BackupModel, LxcModel, VmModel } from "../config/resolve";
import { MonitoringServer } from "../config/resolve/monitoring";
import { MonitoringSecrets } from "../components/monitoring/monitoring";
import { DataPasswords } from "../components/serviceLxc/dataSetup";
import { SecretEnvironment } from "../components/workload/composeWorkload";

/** The passwords a PostgreSQL or Redis container's set-up writes; undefined for any other container. */
export function dataPasswords(
    stack: LoadedStack,
    lxc: Pick<LxcModel, "postgres" | "redis">,
): DataPasswords | undefined {
    const secrets = stack.secrets.services;
    if (lxc.postgres) {
        const dbs = Object.entries(lxc.postgres.databases).sort(([a], [b]) => a.localeCompare(b));
        return { postgres: Object.fromEntries(dbs.map(([db, d]) => [db, secrets.value(d.passwordSecret)])) };
    }
    return lxc.redis ? { redis: secrets.value(lxc.redis.passwordSecret) } : undefined;
}

/** Each of the VM's services' secretEnvironment, its templates filled, by service. */
export function secretEnvironment(stack: LoadedStack, vm: VmModel): Record<string, SecretEnvironment> {
    const secrets = stack.secrets.services;
    return Object.fromEntries(
        Object.entries(vm.services)
            .filter(([, svc]) => Object.keys(svc.secretEnvironment).length > 0)
            .map(([name, svc]) => [
                name,
                Object.fromEntries(Object.entries(svc.secretEnvironment).map(([k, t]) => [k, secrets.fill(t)])),
            ]),
    );
}

/** Grafana's admin password and the alert receiver's secrets, those the config sets. */
export function monitoringSecrets(stack: LoadedStack, server: MonitoringServer): MonitoringSecrets {
    const secrets = stack.secrets.services;
    const r = server.alertReceiver;
    const optional = (key: string, name: string | undefined) => (name ? { [key]: secrets.value(name) } : {});
    return {
        grafanaAdminPassword: secrets.value(server.grafanaAdminPasswordSecret),
        receiver: {
            ...optional("webhookUrl", r.webhookUrlSecret),
            ...optional("smtpUsername", r.email?.usernameSecret),
            ...optional("smtpPassword", r.email?.passwordSecret),
        },
    };
}

/** The API key of each vector-store VM whose store has one (the first that does), by VM name. */
export function vectorApiKeys(stack: LoadedStack, backup: BackupModel): Record<string, pulumi.Output<string>> {
    const secrets = stack.secrets.services;
    return Object.fromEntries(
        backup.vectorVms.flatMap((vm) => {
            const name = vm.stores.find((s) => s.apiKeySecret)?.apiKeySecret;
            return name ? [[vm.name, secrets.value(name)]] : [];
        }),
    );
}
