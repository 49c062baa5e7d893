// The first contact with a GPU VM's Docker: wait for first boot (cloud-init, the NVIDIA reboot), then
// prove that Docker, and on a GPU VM the GPU and the NVIDIA runtime, answer.

/**
 * The docker provider's SSH options: no prompts, the host key learnt on first contact, only the
 * given key (or ssh's configured identity files, never whatever else the agent holds), and no agent
 * forwarded to the VM.
 */
export function dockerSshOpts(keyFile?: string): string[] {
    return [
        ...["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new", "-o", "ConnectTimeout=15"],
        ...["-o", "IdentitiesOnly=yes", "-o", "ForwardAgent=no"],
        ...(keyFile === undefined ? [] : ["-o", `IdentityFile=${keyFile}`]),
    ];
}

/**
 * Waits for first boot (cloud-init: packages, the NVIDIA driver loaded in the running kernel, the
 * docker group) and proves Docker, and the GPU, answer. This SSH session may have started before
 * cloud-init added the user to the docker group, so Docker is asked through sudo (the user has
 * passwordless sudo); the docker provider's own sessions come later and have the group.
 */
export function renderDockerReadyScript(gpu: boolean, cloudInit = true): string {
    const lines = [
        "set -euo pipefail",
        // Exit 2 means done with recoverable warnings; only a hang or a hard error stops here. A GPU
        // container has no cloud-init: its set-up ran to the end before this.
        ...(cloudInit ? ["timeout 1800 cloud-init status --wait >/dev/null || [ $? -eq 2 ]"] : []),
        "sudo -n docker info --format 'ai-dualstack: docker {{.ServerVersion}}'",
        'id -nG "$USER" | grep -qw docker || getent group docker | grep -qw "$USER" || { echo "ai-dualstack: $USER is not in the docker group" >&2; exit 1; }',
        ...(gpu
            ? [
                  "nvidia-smi --query-gpu=name,driver_version --format=csv,noheader",
                  "sudo -n docker info --format '{{json .Runtimes}}' | grep -q nvidia || { echo 'ai-dualstack: the nvidia container runtime is missing' >&2; exit 1; }",
              ]
            : []),
    ];
    return `${lines.join("\n")}\n`;
}

/** The plan's summary line of the readiness check. */
export function describeDockerReady(gpu: boolean): string {
    return `waits for first boot, then checks Docker${gpu ? ", the GPU and the NVIDIA runtime" : ""}`;
}
