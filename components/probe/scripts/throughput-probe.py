#!/usr/bin/env python3
"""ai-dualstack throughput probe: measures each gated model in this VM as the deploy-time gate does
(providers/ollama/runGate.ts) and writes node-exporter textfile metrics.

The spec (JSON, rendered by components/probe/spec.ts from the stack's resolved gate settings) holds
the VM, its GPU, where Ollama answers, the exact generate request the gate sends, and per model what
the gate recorded: the rate it required and the card's roofline ceiling. Per model: find it in
/api/tags (never pull), one warm-up generation, N measured ones, then /api/ps for its residency. The
figures are the gate's (providers/ollama/measure.ts): the median of eval_count / (eval_duration / 1e9)
over the measured runs, and "in VRAM" when size_vram >= size; they are compared with the gate's
required rate and ceiling as given, never worked out here. Python 3 standard library only.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DEFAULT_SPEC = "/etc/ai-dualstack/throughput-probe.json"
PREFIXES = ("registry.ollama.ai/library/", "registry.ollama.ai/", "library/")
TRANSIENT_HTTP = (502, 503, 504)

METRICS = [
    ("aidualstack_model_tokens_per_second",
     "Median decode rate of the probe's measured runs (eval_count / eval_duration), as the deploy-time gate measures it."),
    ("aidualstack_model_min_tokens_per_second",
     "The rate the deploy-time gate required of the model: minTokensPerSecond, or minEfficiency of the roofline when higher."),
    ("aidualstack_model_in_vram", "1 when the loaded model is wholly in VRAM (size_vram >= size in /api/ps), else 0."),
    ("aidualstack_model_roofline_efficiency",
     "Measured rate over the card's roofline ceiling for the model, as the gate recorded it, 0..1."),
    ("aidualstack_model_probe_last_run_timestamp_seconds",
     "Unix time at which the probe last finished with this model."),
    ("aidualstack_model_probe_last_success_timestamp_seconds",
     "Unix time at which the probe last measured this model (0: never); a failing run keeps the previous one."),
    ("aidualstack_model_probe_success", "1 when the probe measured the model, 0 when it could not (the log says why)."),
]


class ProbeError(Exception):
    """A failure to measure (Ollama unreachable, model missing, digest changed...): success 0."""


def canonical_name(model):
    """As lib/modelRef.ts canonicalName: any case, default registry implied, tag "latest" when none."""
    name = model.strip().lower()
    for prefix in PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return name if ":" in name.split("/")[-1] else name + ":latest"


def rate(count, duration_ns):
    return count / (duration_ns / 1e9) if count > 0 and duration_ns > 0 else 0.0


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 == 1 else (ordered[mid - 1] + ordered[mid]) / 2


def efficiency(tokens_per_second, ceiling_tps):
    return tokens_per_second / ceiling_tps if ceiling_tps > 0 else 0.0


def in_vram(size, size_vram):
    return 1 if size > 0 and size_vram >= size else 0


def is_transient(err):
    """Connection failures and gateway errors, as the gate's isTransient; a timeout is final there too."""
    if isinstance(err, urllib.error.HTTPError):
        return err.code in TRANSIENT_HTTP
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    return isinstance(reason, OSError) and not isinstance(reason, TimeoutError)


def describe(err):
    """An HTTP error with Ollama's own words ({"error": ...}), else the error itself."""
    if isinstance(err, urllib.error.HTTPError):
        try:
            return f"HTTP {err.code}: {json.loads(err.read()).get('error', err.reason)}"
        except (ValueError, OSError, AttributeError):
            return f"HTTP {err.code}: {err.reason}"
    return str(err)


def call(spec, what, fn):
    """Runs fn, retrying connection failures and gateway errors with doubling backoff (as the gate)."""
    delay = spec["backoffMs"] / 1000
    for attempt in range(1, spec["attempts"] + 1):
        try:
            return fn()
        except ProbeError:
            raise
        except Exception as err:  # noqa: BLE001 - classified below
            if not is_transient(err) or attempt >= spec["attempts"]:
                tries = "1 try" if attempt == 1 else f"{attempt} tries"
                raise ProbeError(f"{what} at {spec['endpoint']}: {describe(err)} after {tries}") from err
            time.sleep(delay)
            delay *= 2
    raise ProbeError(f"{what}: no attempt made")


def request(spec, method, route, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(spec["endpoint"] + route, data=data, method=method,
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    return urllib.request.urlopen(req, timeout=spec["timeoutSeconds"])


def get_json(spec, route):
    def fetch():
        with request(spec, "GET", route) as res:
            return json.load(res)
    return call(spec, f"GET {route}", fetch)


def generate(spec, body):
    """One streamed generation; returns the final message's timings."""
    def run():
        deadline = time.monotonic() + spec["timeoutSeconds"]
        with request(spec, "POST", "/api/generate", body) as res:
            for line in res:
                if time.monotonic() > deadline:
                    raise ProbeError(f"generate with {body['model']} took over {spec['timeoutSeconds']} s")
                if not line.strip():
                    continue
                chunk = json.loads(line)
                if "error" in chunk:
                    raise ProbeError(f"Ollama: {chunk['error']}")
                if chunk.get("done"):
                    return chunk
        raise ProbeError(f"Ollama stopped generating with {body['model']} before its final, timed message")
    return call(spec, f"generate {body['model']}", run)


def digest_matches(pinned, actual):
    if not pinned:
        return True
    return actual.lower().startswith(pinned.lower().removeprefix("sha256:"))


def measure(spec, model):
    """The gate's steps for one model, without pulling; returns the figures and the raw timings."""
    want = canonical_name(model["name"])
    listed = get_json(spec, "/api/tags").get("models", [])
    present = next((m for m in listed
                    if want in (canonical_name(m.get("name", "")), canonical_name(m.get("model", "")))), None)
    if present is None:
        raise ProbeError(f"model {model['name']} is not on {spec['endpoint']}; run `pulumi up` to pull it again")
    if not digest_matches(model.get("digest"), present["digest"]):
        raise ProbeError(f"model {model['name']} is {present['digest'][:12]}, "
                         f"not the pinned {model['digest']}; run `pulumi up`")
    warmup = generate(spec, model["request"])
    runs = [generate(spec, model["request"]) for _ in range(spec["runs"])]
    loaded = get_json(spec, "/api/ps").get("models", [])
    # An alias (`ollama cp`) shares the loaded runner, which ps lists under the first name: the digest too.
    running = next((m for m in loaded
                    if canonical_name(m.get("name", "")) == want or m.get("digest") == present["digest"]), None)
    if running is None:
        raise ProbeError(f"model {model['name']} was not loaded right after generating; is OLLAMA_KEEP_ALIVE 0?")
    tps = median([rate(r.get("eval_count", 0), r.get("eval_duration", 0)) for r in runs])
    keys = ("eval_count", "eval_duration", "prompt_eval_count", "prompt_eval_duration",
            "load_duration", "total_duration")
    return {
        "tokensPerSecond": tps,
        "inVram": in_vram(running.get("size", 0), running.get("size_vram", 0)),
        "rooflineEfficiency": efficiency(tps, model["ceilingTokensPerSecond"]),
        "raw": {
            "warmup": {k: warmup.get(k, 0) for k in keys},
            "runs": [{k: r.get(k, 0) for k in keys} for r in runs],
            "modelBytes": present["size"], "size": running.get("size", 0), "sizeVram": running.get("size_vram", 0),
        },
    }


def resolve_endpoint(ollama):
    """Ollama's URL: given, or the address of its container on its compose network (docker inspect)."""
    if "url" in ollama:
        return ollama["url"].rstrip("/")
    out = subprocess.run(["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", ollama["container"]],
                         capture_output=True, text=True, timeout=30, check=False)
    if out.returncode != 0:
        raise ProbeError(f"docker inspect {ollama['container']}: {out.stderr.strip()}")
    addresses = [n.get("IPAddress") for n in (json.loads(out.stdout) or {}).values() if n.get("IPAddress")]
    if not addresses:
        raise ProbeError(f"container {ollama['container']} has no address on a Docker network; is it running?")
    return f"http://{addresses[0]}:{ollama['port']}"


def label_value(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def labels_of(spec, model):
    return (f'model="{label_value(model)}",gpu="{label_value(spec["gpu"]["name"])}",'
            f'vm="{label_value(spec["vm"])}"')


LAST_SUCCESS = "aidualstack_model_probe_last_success_timestamp_seconds"


def previous_successes(path):
    """Each model's last success (by its labels) in the textfile a run before this one wrote; {} when none."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return {}
    found = {}
    for line in lines:
        if line.startswith(LAST_SUCCESS + "{") and "} " in line:
            labels, _, value = line[len(LAST_SUCCESS) + 1:].rpartition("} ")
            try:
                found[labels] = float(value)
            except ValueError:
                continue
    return found


def stamp_success(spec, results, previous):
    """This run's time for each model it measured; the previous success (0: never) for each it could not."""
    for r in results:
        m = r["metrics"]
        ok = m["aidualstack_model_probe_success"] == 1
        m[LAST_SUCCESS] = m["aidualstack_model_probe_last_run_timestamp_seconds"] if ok else \
            previous.get(labels_of(spec, r["model"]), 0.0)


def render(spec, results):
    """The textfile: every metric's HELP and TYPE once, then one sample per model that has it."""
    lines = []
    for name, text in METRICS:
        samples = [(r, r["metrics"][name]) for r in results if name in r["metrics"]]
        if not samples:
            continue
        lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge"]
        for r, value in samples:
            lines.append(f"{name}{{{labels_of(spec, r['model'])}}} {float(value)!r}")
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    """A temporary file in the same folder, then rename: node-exporter never reads half a file."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".throughput-probe.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def probe_model(spec, model):
    # The gate's required rate, as it recorded it: written whether or not the model could be measured.
    metrics = {"aidualstack_model_min_tokens_per_second": model["requiredTokensPerSecond"]}
    result = {"model": model["name"], "metrics": metrics}
    try:
        figures = measure(spec, model)
        metrics["aidualstack_model_tokens_per_second"] = figures["tokensPerSecond"]
        metrics["aidualstack_model_in_vram"] = figures["inVram"]
        metrics["aidualstack_model_roofline_efficiency"] = figures["rooflineEfficiency"]
        metrics["aidualstack_model_probe_success"] = 1
        result["raw"] = figures["raw"]
        # The alert compares the same two figures (aidualstack_model_tokens_per_second < ..._min_...).
        slow = "below" if figures["tokensPerSecond"] < model["requiredTokensPerSecond"] else "at or above"
        print(f"{model['name']} on {spec['gpu']['name']}: {figures['tokensPerSecond']:.1f} tokens/s, {slow} "
              f"the {model['requiredTokensPerSecond']:.1f} the gate required; in VRAM {figures['inVram']}, "
              f"{100 * figures['rooflineEfficiency']:.1f}% of the roofline", flush=True)
    except Exception as err:  # noqa: BLE001 - any failure is this model's success 0, never a stale file
        metrics["aidualstack_model_probe_success"] = 0
        result["error"] = str(err) if isinstance(err, ProbeError) else f"{type(err).__name__}: {err}"
        print(f"{model['name']}: not measured: {err}", file=sys.stderr, flush=True)
    metrics["aidualstack_model_probe_last_run_timestamp_seconds"] = time.time()
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status: 0 when every model was measured (whatever its speed), 1 otherwise.")
    parser.add_argument("--spec", default=DEFAULT_SPEC, help=f"the spec JSON (default {DEFAULT_SPEC})")
    parser.add_argument("--textfile", help="write the metrics here instead of the spec's textfile path")
    parser.add_argument("--report", help="also write every figure and Ollama's raw timings here, as JSON")
    args = parser.parse_args(argv)
    with open(args.spec, encoding="utf-8") as f:
        spec = json.load(f)
    try:
        spec["endpoint"] = resolve_endpoint(spec["ollama"])
        results = [probe_model(spec, m) for m in spec["models"]]
    except ProbeError as err:
        print(f"not measured: {err}", file=sys.stderr, flush=True)
        spec["endpoint"] = ""
        results = [{"model": m["name"], "error": str(err), "metrics": {
            "aidualstack_model_min_tokens_per_second": m["requiredTokensPerSecond"],
            "aidualstack_model_probe_success": 0,
            "aidualstack_model_probe_last_run_timestamp_seconds": time.time()}} for m in spec["models"]]
    textfile = args.textfile or spec["textfile"]
    # The stale alert reads the last success, which a run that fails must not move.
    stamp_success(spec, results, previous_successes(textfile))
    write_atomically(textfile, render(spec, results))
    if args.report:
        write_atomically(args.report, json.dumps({"endpoint": spec["endpoint"], "results": results}, indent=2) + "\n")
    return 0 if all(r["metrics"]["aidualstack_model_probe_success"] == 1 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
