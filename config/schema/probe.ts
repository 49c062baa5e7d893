// The continuous throughput probe of a gated VM: a systemd timer in the VM that measures each model
// as the deploy-time gate does and writes the figures for node-exporter's textfile collector.

import { z } from "zod";
import { d, flag } from "./fields";

/** Where the probe writes its metrics in the VM, and node-exporter reads them (through its /host mount). */
export const DEFAULT_TEXTFILE_DIRECTORY = "/var/lib/ai-dualstack/textfile";

export const ThroughputProbeSchema = z
    .strictObject({
        enabled: flag(
            true,
            "Install the probe in the VM (a systemd timer) when the gate is on and the VM runs services; off removes it at the next `pulumi up`.",
        ),
        intervalMinutes: z
            .number()
            .int()
            .min(5, "probe at most every 5 minutes: each run loads the GPU for a warm-up and the measured runs")
            .max(90, "probe at least every 90 minutes: the probe-stale alert fires after 2 h without a run")
            .default(60)
            .meta(d("Minutes between two probe runs (the timer's OnUnitActiveSec); the first runs at install.")),
        textfileDirectory: z
            .string()
            .regex(
                /^\/[A-Za-z0-9._/-]+$/,
                'must be an absolute path in the VM such as "/var/lib/ai-dualstack/textfile"',
            )
            .default(DEFAULT_TEXTFILE_DIRECTORY)
            .meta(
                d(
                    "The VM's folder the probe writes its .prom file into; the VM's node-exporter must read it (--collector.textfile.directory, through its mount of the VM's root).",
                ),
            ),
    })
    .prefault({})
    .meta(
        d(
            "The continuous probe: measures the gated models in the VM on a timer, as the gate does (docs/throughput-gate.md).",
        ),
    );

export type ThroughputProbeConfig = z.infer<typeof ThroughputProbeSchema>;
