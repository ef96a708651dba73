"""SKI-lang from Python: check, train and sweep specs with the `skilang` command this package
installs, and get back what it reports as dictionaries.

    import skilang
    report = skilang.train("examples/adult-fairness.yaml", {"optimization.epochs": 3})
    report["task_accuracy"], report["out"]          # the figures, and the run's folder
    summary = skilang.sweep("examples/adult-fairness.yaml", seeds=[1, 2, 3],
                            grid={"constraints.1.weight": [0, 1]})
"""

import json
import os
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path

__all__ = ["check", "train", "sweep", "summary", "schema", "SkilangError", "binary"]


class SkilangError(RuntimeError):
    """A command that failed: its exit status and what it wrote to stderr (located diagnostics
    for a spec)."""

    def __init__(self, status, stderr):
        super().__init__(stderr.strip() or f"skilang exited with status {status}")
        self.status = status
        self.stderr = stderr


def binary():
    """The `skilang` command: `SKILANG_BIN`, else the one installed beside this module's Python,
    else the first on PATH."""
    named = os.environ.get("SKILANG_BIN")
    if named:
        return named
    beside = Path(sysconfig.get_path("scripts")) / ("skilang.exe" if os.name == "nt" else "skilang")
    if beside.is_file():
        return str(beside)
    found = shutil.which("skilang")
    if found is None:
        raise SkilangError(127, "the skilang command is not installed (pip install skilang, or set SKILANG_BIN)")
    return found


def _run(args):
    done = subprocess.run([binary(), *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SkilangError(done.returncode, done.stderr)
    return done


def _value(v):
    # YAML spellings of Python values, as `--set` reads them.
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return str(v)


def _sets(overrides):
    """`{"optimization.epochs": 3}` (or `["optimization.epochs=3"]`) as `--set` arguments."""
    if not overrides:
        return []
    pairs = overrides.items() if isinstance(overrides, dict) else (o.split("=", 1) for o in overrides)
    return [a for k, v in pairs for a in ("--set", f"{k}={_value(v)}")]


def _common(epochs, data_dir):
    return (["--epochs", epochs] if epochs is not None else []) + (["--data-dir", data_dir] if data_dir else [])


def check(path, overrides=None):
    """Checks a spec: its diagnostics and, when valid, the summary `skilang check --format json`
    gives. An invalid spec is not an exception: its `diagnostics` say why, with lines and columns."""
    done = subprocess.run([binary(), "check", "--format", "json", *_sets(overrides), str(path)], capture_output=True, text=True)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise SkilangError(done.returncode, done.stderr)
    return json.loads(done.stdout)["files"][0]


def train(path, overrides=None, out=None, *, epochs=None, seed=None, data_dir=None):
    """Trains a spec and returns its report (`report.json`) as a dict, with `out`, the run's folder
    (a new temporary folder unless given; model/ holds the weights)."""
    out = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="skilang-")) / "run"
    args = ["train", path, "--out", out, *_common(epochs, data_dir), *_sets(overrides)]
    if seed is not None:
        args += ["--seed", seed]
    _run(args)
    report = json.loads((out / "report.json").read_text())
    report["out"] = str(out)
    return report


def sweep(path, seeds=None, grid=None, overrides=None, out=None, *, jobs=None, metrics=None, epochs=None, data_dir=None):
    """Trains a spec at every point of `grid` (`{key: [values]}`) for every seed and returns the
    summary (`summary.json`) as a dict, with `out`, the sweep's folder. Called again with the same
    `out`, it trains only what is missing."""
    out = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="skilang-sweep-")) / "sweep"
    args = ["sweep", path, "--out", out, *_common(epochs, data_dir), *_sets(overrides)]
    if seeds is not None:
        args += ["--seeds", ",".join(map(str, seeds))]
    for key, values in (grid or {}).items():
        args += ["--grid", f"{key}=" + ",".join(_value(v) for v in values)]
    if jobs is not None:
        args += ["--jobs", jobs]
    if metrics:
        args += ["--metrics", ",".join(metrics)]
    _run(args)
    return summary(out)


def summary(out):
    """A sweep's summary, from its folder."""
    result = json.loads((Path(out) / "summary.json").read_text())
    result["out"] = str(out)
    return result


def schema():
    """The language's JSON Schema."""
    return json.loads(_run(["schema"]).stdout)
