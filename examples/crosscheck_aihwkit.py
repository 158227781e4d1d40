#!/usr/bin/env python3
"""Cross-check analognas's analog simulation against IBM's aihwkit on the same trained weights.

The same exported network is programmed several times and read at each time after programming
(default 1 s, 1 h, 1 d, 30 d) twice: by analognas (`analognas evaluate --json`, its own PCM,
periphery and GDC model) and by aihwkit (the exported aihwkit_model.py: the PyTorch module of
model.py converted with convert_to_analog and an InferenceRPUConfig mirroring the profile).
It prints both mean test accuracies with 95 % confidence intervals (Student t over the
programmings), their difference with a 95 % interval (Welch), and whether they agree.

    cargo build --release
    analognas export --arch genome.json --task digits --train --epochs 10 --test-set --out /tmp/r8
    python3 examples/crosscheck_aihwkit.py --model /tmp/r8 --reps 10

Needs: an export with trained weights written with `--format all` (the default) and
`--test-set`; torch and aihwkit (tested with aihwkit 1.2.0, built from source with
`pip wheel --no-build-isolation aihwkit==1.2.0`). The profile is the one the export was made
for (export.json's "profile", hw_profiles/<name>.toml); --profile FILE uses another one for both
simulators (read with tomllib, Python >= 3.11).
"""

import argparse
import importlib.util
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "y": 365 * 86400.0}
# Two-sided 95 % quantiles of Student's t by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131,
        16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042,
        40: 2.021, 60: 2.000, 120: 1.980}


def t975(df):
    """95 % two-sided t quantile (the next smaller tabulated df: conservative)."""
    if df < 1:
        return math.inf
    keys = [k for k in T975 if k <= df]
    return T975[max(keys)] if df < 121 else 1.960


def parse_time(s):
    s = s.strip()
    if s[-1] in UNITS:
        return float(s[:-1]) * UNITS[s[-1]]
    return float(s)


def mean_std(v):
    n = len(v)
    m = sum(v) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (n - 1)) if n > 1 else 0.0
    return m, sd


def ci(sd, n):
    return t975(n - 1) * sd / math.sqrt(n) if n > 1 else math.inf


def welch(m1, s1, n1, m2, s2, n2):
    """Difference m1 - m2 and the half-width of its 95 % interval (Welch)."""
    v1, v2 = s1 * s1 / n1, s2 * s2 / n2
    se = math.sqrt(v1 + v2)
    if se == 0:
        return m1 - m2, 0.0
    denom = (v1 * v1 / (n1 - 1) if n1 > 1 else 0.0) + (v2 * v2 / (n2 - 1) if n2 > 1 else 0.0)
    df = (v1 + v2) ** 2 / denom if denom > 0 else math.inf
    return m1 - m2, t975(math.floor(df)) * se


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def find_binary(given):
    if given:
        return given
    for p in [ROOT / "target" / "release" / "analognas"]:
        if p.is_file():
            return str(p)
    found = shutil.which("analognas")
    if found:
        return found
    sys.exit("crosscheck: no analognas binary (cargo build --release, or --analognas PATH)")


def run_analognas(binary, model, task, profile, times, reps, seed):
    cmd = [binary, "evaluate", "--model", str(model), "--task", task, "--profile", str(profile),
           "--times", ",".join(times), "--reps", str(reps), "--seed", str(seed), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"crosscheck: {' '.join(cmd)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, type=Path, help="export directory")
    ap.add_argument("--reps", type=int, default=10, help="programmings per simulator")
    ap.add_argument("--times", default="1s,1h,1d,30d", help="times after programming")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile", type=Path, help="profile TOML (default: the export's)")
    ap.add_argument("--analognas", help="analognas binary (default: target/release/analognas)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for aihwkit")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    a = ap.parse_args()

    d = a.model.resolve()
    info = json.loads((d / "export.json").read_text())
    for f in ["model.safetensors", "aihwkit_model.py", "test.safetensors", "model.bpk"]:
        if not (d / f).is_file():
            sys.exit(f"crosscheck: {d / f}: missing (export with --train --format all --test-set)")
    times = [t.strip() for t in a.times.split(",")]
    seconds = [parse_time(t) for t in times]

    import torch

    torch.set_num_threads(a.threads)
    aihw = load_module(d / "aihwkit_model.py", "analognas_export_aihwkit")
    profile = aihw.PROFILE
    profile_path = a.profile or ROOT / "hw_profiles" / f"{profile['name']}.toml"
    if a.profile:
        import tomllib

        profile = tomllib.loads(a.profile.read_text())
    if not Path(profile_path).is_file():
        sys.exit(f"crosscheck: {profile_path}: no such profile (pass --profile FILE)")

    # analognas: its own simulator on the burn record.
    ours = run_analognas(find_binary(a.analognas), d, info["task"], profile_path, times,
                         a.reps, a.seed)

    # aihwkit: the same weights through model.py, converted with the mirrored rpu_config.
    model = aihw._model_module()
    test = model.read_safetensors(d / "test.safetensors")
    x, y = test["input"], test["label"]
    with torch.no_grad():
        digital = 100.0 * float((model.load(d / "model.safetensors")(x).argmax(1) == y).float().mean())
    analog = aihw.analog_model(d / "model.safetensors", profile)
    theirs = aihw.accuracies(analog, x, y, seconds, a.reps, seed=a.seed)

    rows = []
    for t, s in zip(times, seconds):
        p = next(p for p in ours["points"] if abs(p["t_seconds"] - s) < 1e-6)
        m1, s1, n1 = p["mean"], p["std"], ours["reps"]
        m2, s2 = mean_std(theirs[s])
        n2 = len(theirs[s])
        diff, half = welch(m1, s1, n1, m2, s2, n2)
        rows.append({"time": t, "analognas": [m1, ci(s1, n1)], "aihwkit": [m2, ci(s2, n2)],
                     "difference": [diff, half], "within": abs(diff) <= half})

    print(f"network {info['id']} ({info['task']}, {x.shape[0]} test samples), profile "
          f"{profile.get('name', profile_path)}, {a.reps} programmings each")
    print(f"digital accuracy: analognas (burn) {ours['acc_fp']:.2f} %, PyTorch {digital:.2f} %")
    print()
    print("| time | analognas | aihwkit | analognas - aihwkit | within 95 % CI |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['time']} | {r['analognas'][0]:.2f} ± {r['analognas'][1]:.2f} % "
              f"| {r['aihwkit'][0]:.2f} ± {r['aihwkit'][1]:.2f} % "
              f"| {r['difference'][0]:+.2f} ± {r['difference'][1]:.2f} "
              f"| {'yes' if r['within'] else 'no'} |")
    if a.json:
        a.json.write_text(json.dumps({"network": info["id"], "task": info["task"],
                                      "reps": a.reps, "digital": {"analognas": ours["acc_fp"],
                                                                  "pytorch": digital},
                                      "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
