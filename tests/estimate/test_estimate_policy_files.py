"""Broken policy files give a load error naming the file and the key; the other policies
keep working; a broken correction never falls back silently to the shipped figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desktop.services import policies

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "policies"
SHANXI = (SHIPPED / "shanxi-2025.toml").read_text(encoding="utf-8")
TIANJIN = (SHIPPED / "tianjin-2016.toml").read_text(encoding="utf-8")
FULL = (Path(__file__).resolve().parent / "policies" / "test-full.toml").read_text("utf-8")


def install(data_dir: Path, name: str, text: str) -> Path:
    d = data_dir / "policies"
    d.mkdir(exist_ok=True)
    p = d / f"{name}.toml"
    p.write_text(text, encoding="utf-8")
    return p


def as_local(text: str, new_id: str) -> str:
    return re.sub(r'^id = ".*"$', f'id = "{new_id}"', text, count=1, flags=re.M)


BROKEN = [
    # (what, text transform, key named in the error, words in the problem)
    (
        "missing key",
        lambda t: t.replace('deductible = "600.00"\n', "", 1),
        "inpatient.levels.county.deductible",
        "missing",
    ),
    (
        "ratio 1.5",
        lambda t: t.replace('ratio = "0.90"', 'ratio = "1.5"', 1),
        "inpatient.levels.township.ratio",
        "above 1",
    ),
    (
        "overlapping bands",
        lambda t: t.replace(
            'from = "10000.00"\npersonal_share', 'from = "9000.00"\npersonal_share'
        ),
        "inpatient.levels.county.bands[1].from",
        "overlaps",
    ),
    (
        "gap between segments",
        lambda t: t.replace(
            'from = "40000.00"\nratio = "0.70"', 'from = "45000.00"\nratio = "0.70"'
        ),
        "dabing.segments[1].from",
        "gap",
    ),
    (
        "unknown category",
        lambda t: t.replace('categories = ["dibao", "tekun"]', 'categories = ["dibao", "vip"]'),
        "inpatient.category_terms[0].categories",
        "unknown category 'vip'",
    ),
    (
        "a float instead of a string",
        lambda t: t.replace('ratio = "0.90"', "ratio = 0.9", 1),
        "inpatient.levels.township.ratio",
        "no floats",
    ),
    (
        "a typo in a key",
        lambda t: t.replace("deductible_year_cap", "deductable_year_cap", 1),
        "inpatient.deductable_year_cap",
        "unknown key",
    ),
    (
        "a category in two terms",
        lambda t: t.replace('categories = ["tekun"]\n', 'categories = ["tekun", "dibao"]\n', 1),
        "assistance.terms[1].categories",
        "also in",
    ),
    (
        "a fixed ratio and a raise together",
        lambda t: t.replace('ratio = "0.95"', 'ratio = "0.95"\nratio_add = "0.05"', 1),
        "inpatient.category_terms[3].ratio",
        "not both",
    ),
    (
        "a section without source",
        lambda t: t.replace('source = "test: outpatient"\n', "", 1),
        "outpatient.source",
        "missing",
    ),
    (
        "gross segments not starting at the deductible",
        lambda t: t.replace('segment_basis = "above_deductible"', 'segment_basis = "gross"', 1),
        "dabing.segments[0].from",
        "must start at 10000.00",
    ),
]


@pytest.mark.parametrize(("what", "change", "key", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_names_file_and_key(data_dir, what, change, key, words):
    broken = change(as_local(FULL, "county-own"))
    assert broken != as_local(FULL, "county-own"), f"the {what} edit did not apply"
    install(data_dir, "county-own", broken)
    ps = policies.load(data_dir)
    [err] = ps.errors
    assert err.file == "policies/county-own.toml"
    assert err.key == key
    assert words in err.problem
    assert err.policy_id == "county-own"
    with pytest.raises(policies.PolicyUnavailable) as e:
        ps.get("county-own")
    # the clerk is told the policy cannot be used; the file and key are for the technician
    assert "county-own" not in str(e.value) and "政策文件有错误" in str(e.value)
    assert "county-own.toml" in e.value.detail and key in e.value.detail
    # every shipped policy is still usable
    assert {"shanxi-2025", "tianjin-2016", "reprint-jiangyin-assistance"} <= set(ps.policies)
    from desktop.services import estimate as svc

    ok = svc.run(
        "shanxi-2025",
        {"setting": "inpatient", "price_class": "class3", "in_policy": "1000.00"},
        data_dir=data_dir,
    )
    assert ok["hifp_pay"] == "765.00"


def test_tianjin_overlapping_dabing_segments(data_dir):
    text = TIANJIN.replace(
        'from = "100000.00"\nto = "200000.00"', 'from = "90000.00"\nto = "200000.00"'
    )
    install(data_dir, "tianjin-2016", text)
    ps = policies.load(data_dir)
    [err] = ps.errors
    assert (err.file, err.key) == ("policies/tianjin-2016.toml", "dabing.segments[1].from")
    assert "overlaps" in err.problem


def test_a_broken_correction_makes_the_policy_unusable_not_the_shipped_one(data_dir):
    install(data_dir, "shanxi-2025", SHANXI.replace('ratio = "0.85"', 'ratio = "1.5"'))
    ps = policies.load(data_dir)
    assert "shanxi-2025" not in ps.policies
    with pytest.raises(policies.PolicyUnavailable):
        ps.get("shanxi-2025")
    from core.errors import ValidationError
    from desktop.services import estimate as svc

    with pytest.raises(ValidationError) as e:
        svc.run(
            "shanxi-2025",
            {"setting": "inpatient", "price_class": "class3", "in_policy": "1"},
            data_dir=data_dir,
        )
    assert "政策文件有错误" in e.value.errors["policy"]
    assert "shanxi-2025" not in e.value.errors["policy"]  # no file name beside the field
    rows = {r["id"]: r for r in ps.listing()}
    assert rows["shanxi-2025"]["usable"] is False and "ratio" in rows["shanxi-2025"]["error"]


def test_a_local_file_overrides_the_shipped_one_by_id(data_dir):
    install(
        data_dir, "shanxi-2025", SHANXI.replace('deductible = "100.00"', 'deductible = "200.00"')
    )
    ps = policies.load(data_dir)
    assert ps.origins["shanxi-2025"] == "local"
    assert ps.get("shanxi-2025").section("inpatient").levels["class3"].deductible == 200
    # and the cache notices when the county removes its correction
    (data_dir / "policies" / "shanxi-2025.toml").unlink()
    assert (
        policies.load(data_dir).get("shanxi-2025").section("inpatient").levels["class3"].deductible
        == 100
    )


def test_the_id_must_match_the_file_name(data_dir):
    install(data_dir, "other-name", SHANXI)
    [err] = policies.load(data_dir).errors
    assert err.key == "policy.id" and "file name" in err.problem


def test_toml_syntax_error_is_reported(data_dir):
    install(data_dir, "bad-syntax", "[policy\nid = ")
    [err] = policies.load(data_dir).errors
    assert err.file == "policies/bad-syntax.toml" and err.key == "(syntax)"


def test_for_region_year_matches_county_city_province(data_dir):
    install(data_dir, "test-full", FULL)
    ps = policies.load(data_dir)
    ids = [p.id for p in ps.for_region_year("140121", 2025)]
    assert ids == ["test-full", "shanxi-2025"]  # county first, then the province
    assert [p.id for p in ps.for_region_year("120101", 2016)] == ["tianjin-2016"]
    assert ps.for_region_year("140121", 2024) == []
    assert [p.id for p in ps.latest_for_region("140121", 2027)] == ["test-full", "shanxi-2025"]
    assert ps.latest_for_region("140121", 2024) == []


def test_every_shipped_file_loads_and_every_table_has_a_source():
    ps = policies.load(None)
    assert ps.errors == []
    for pid in (
        "shanxi-2025",
        "tianjin-2016",
        "reprint-ziyang-dabing",
        "reprint-above-deductible-dabing",
        "reprint-city-hospital",
        "reprint-jiangyin-assistance",
    ):
        pol = ps.get(pid)
        assert pol.source
        for name, sec in pol.sections.items():
            if name == "contribution":
                continue
            assert sec.source, (pid, name)
            for t in getattr(sec, "category_terms", ()) + getattr(sec, "terms", ()):
                assert t.source, (pid, name)
            for a in getattr(sec, "admission_rules", ()) + getattr(sec, "claim_free", ()):
                assert a.source, (pid, name)


def test_policies_check_cli(tmp_path, data_dir, capsys):
    from desktop.cli import main

    good = tmp_path / "good-one.toml"
    good.write_text(as_local(SHANXI, "good-one"), encoding="utf-8")
    bad = tmp_path / "bad-one.toml"
    bad.write_text(as_local(SHANXI, "bad-one").replace('ratio = "0.85"', 'ratio = "1.5"'), "utf-8")
    assert main(["policies", "check", str(good)]) == 0
    assert main(["policies", "check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "错误：bad-one.toml: inpatient.levels.class3.ratio: 1.5 is above 1" in out
    install(data_dir, "bad-one", bad.read_text("utf-8"))
    assert main(["--data-dir", str(data_dir), "policies", "list"]) == 1
    out = capsys.readouterr().out
    assert "bad-one" in out and "不可用" in out and "shanxi-2025" in out
    assert main(["--data-dir", str(data_dir), "policies", "show", "tianjin-2016"]) == 0
    assert '"deductible": "20000.00"' in capsys.readouterr().out
