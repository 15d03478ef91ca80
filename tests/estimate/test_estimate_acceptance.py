"""Every ``estimate`` case of the shared acceptance file, through the service the GUI calls
(``desktop.services.estimate.run``) and through the CLI."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from desktop.services import estimate as svc

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "acceptance" / "cases.json"
CASES = json.loads(CASES_FILE.read_text(encoding="utf-8"))["estimate"]


def test_the_file_has_estimate_cases(acceptance_cases):
    assert len(acceptance_cases["estimate"]) == len(CASES) >= 24


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_through_service(case, data_dir):
    result = svc.run(case["policy"], case["given"], data_dir=data_dir)
    got = {k: result.get(k) for k in case["expect"]}
    assert got == case["expect"], case["source"]
    assert result["steps"], "every result explains itself"
    assert all(s["source"] for s in result["steps"]), "every step names its source"


def test_ziyang_03_gives_the_corrected_figure(data_dir):
    case = next(c for c in CASES if c["id"] == "ziyang-03")
    assert case["negative"] is True
    result = svc.run(case["policy"], case["given"], data_dir=data_dir)
    assert result["hifmi_pay"] == "65000.00" != "53000.00"


@pytest.mark.parametrize("case", CASES[::6], ids=[c["id"] for c in CASES[::6]])
def test_case_through_cli(case, data_dir, monkeypatch, capsys):
    from desktop.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(case["given"])))
    rc = main(["--data-dir", str(data_dir), "estimate", "--policy", case["policy"], "--input", "-"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert {k: out[k] for k in case["expect"]} == case["expect"]


def test_cli_reads_a_file_and_reports_bad_input(tmp_path, data_dir, capsys):
    from desktop.cli import main

    f = tmp_path / "case.json"
    f.write_text(json.dumps({"setting": "inpatient", "price_class": "class9", "total": "-5"}))
    rc = main(
        ["--data-dir", str(data_dir), "estimate", "--policy", "shanxi-2025", "--input", str(f)]
    )
    assert rc == 1
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert errors["total"] == "医疗费总额不能为负数"


def test_cli_takes_a_whole_case_and_its_policy(tmp_path, data_dir, capsys):
    from desktop.cli import main

    case = next(c for c in CASES if c["id"] == "jiangyin-01")
    f = tmp_path / "case.json"
    f.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    assert main(["--data-dir", str(data_dir), "estimate", "--input", str(f)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {k: out[k] for k in case["expect"]} == case["expect"]
    f.write_text(json.dumps(case["given"]), encoding="utf-8")
    assert main(["--data-dir", str(data_dir), "estimate", "--input", str(f)]) == 2
    assert "--policy" in capsys.readouterr().err
