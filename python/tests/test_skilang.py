"""The Python module as a notebook uses it, on real data (SKILANG_DATA). Runs with pytest or as
`python python/tests/test_skilang.py`."""

import os
import tempfile
from pathlib import Path

import skilang

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples" / "adult-fairness.yaml"


def test_check_reports_a_valid_spec_and_locates_a_mistake():
    ok = skilang.check(SPEC)
    assert ok["diagnostics"] == [] and ok["summary"]["constraints"][1]["name"] == "fairness"
    bad = skilang.check(SPEC, {"optimization.injection": "sideways"})
    (d,) = [d for d in bad["diagnostics"] if d["severity"] == "error"]
    assert "sideways" in d["message"] and d["line"] > 1, d


def test_train_returns_the_report():
    # The fairness constraint off, 3 epochs: 0.8458 on this machine.
    report = skilang.train(SPEC, {"optimization.epochs": 3, "constraints.1.weight": 0}, seed=2)
    assert report["task_accuracy"] > 0.84, report["task_accuracy"]
    assert report["seed"] == 2 and report["constraints"][1]["weight"] == 0
    assert Path(report["out"], "model", "over50k.safetensors").is_file()
    try:
        skilang.train(SPEC, {"optimization.epochs": 0})
    except skilang.SkilangError as e:
        assert e.status == 1 and "epochs" in str(e), e
    else:
        raise AssertionError("epochs 0 was accepted")


def test_sweep_returns_the_summary_and_resumes():
    out = Path(tempfile.mkdtemp()) / "s"
    s = skilang.sweep(SPEC, seeds=[1, 2], grid={"constraints.1.weight": [0, 1]}, out=out, epochs=1)
    assert [p["settings"]["constraints.1.weight"] for p in s["points"]] == ["0", "1"]
    assert all(p["metrics"]["task_accuracy"]["n"] == 2 for p in s["points"])
    again = skilang.sweep(SPEC, seeds=[1, 2], grid={"constraints.1.weight": [0, 1]}, out=out, epochs=1)
    assert again["points"] == s["points"]


if __name__ == "__main__":
    for name, test in list(globals().items()):
        if name.startswith("test_"):
            test()
            print("ok", name)
