"""Policy files: the shipped ones plus the county's own, loaded, validated and cached.

API (used by the estimator, contributions and anyone else that needs policy data)::

    from desktop.services import policies

    ps = policies.load(data_dir)          # PolicySet; cached, reloaded when a file changes
    ps.get("shanxi-2025")                 # Policy, or raises PolicyUnavailable (Chinese msg)
    ps.for_region_year("140121", 2025)    # [Policy], most specific region first
    ps.latest_for_region("140121", 2026)  # [Policy] of years <= 2026, newest year first
    ps.errors                             # [LoadError(file, key, problem, policy_id)]
    ps.policies                           # {id: Policy} — only the usable ones
    policies.get("shanxi-2025", data_dir) # shortcuts for load(data_dir).get(...)
    policies.for_region_year(region, year, data_dir)

Where files come from: ``resources/policies/*.toml`` (shipped) and
``<data_dir>/policies/*.toml`` (the county's own). A file is named ``<policy id>.toml`` and
its ``[policy] id`` must equal that name. A data-dir file with the id of a shipped one
replaces it. A file that fails to load makes its policy unusable — it is listed in
``errors`` and ``get`` names the problem — and never falls back silently to the shipped
version it meant to correct; all other policies keep working.

``for_region_year`` matches the region code exactly, then its city (first 4 digits +
"00") and its province (first 2 digits + "0000"), and the 参保年度 exactly.
``check_files(paths)`` validates files without installing them (``policies check``).
"""

from __future__ import annotations

import logging
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from core.policy import Policy, PolicyError, parse_policy
from desktop import paths

log = logging.getLogger(__name__)

POLICY_DIRNAME = "policies"


class PolicyUnavailable(LookupError):
    """The policy does not exist or its file has an error. ``str()`` is Chinese."""

    def __init__(self, policy_id: str, message: str, detail: str = ""):
        self.policy_id, self.detail = policy_id, detail  # detail: for the technician
        super().__init__(message)


@dataclass(frozen=True)
class LoadError:
    file: str
    key: str
    problem: str
    policy_id: str  # from the file name

    @property
    def message(self) -> str:
        """For the clerk: the file, its key and the checker's words are in the log."""
        return "这个测算政策的政策文件有错误，暂不能使用；请联系县医保局的技术人员"

    @property
    def detail(self) -> str:
        """For the technician (command line, log)."""
        return f"{self.file}: {self.key}: {self.problem}"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "key": self.key,
            "problem": self.problem,
            "policy_id": self.policy_id,
        }


@dataclass
class PolicySet:
    policies: dict[str, Policy] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # id -> "shipped" | "local"

    def get(self, policy_id: str) -> Policy:
        if policy_id in self.policies:
            return self.policies[policy_id]
        for e in self.errors:
            if e.policy_id == policy_id:
                raise PolicyUnavailable(policy_id, e.message, e.detail)
        raise PolicyUnavailable(policy_id, "找不到这个测算政策（可能已被县医保局撤下）")

    def unusable(self) -> dict[str, LoadError]:
        return {e.policy_id: e for e in self.errors}

    def for_region_year(self, region: str, year: int) -> list[Policy]:
        region = (region or "").strip()
        wanted = [region]
        if len(region) == 6 and region.isdigit():
            for r in (region[:4] + "00", region[:2] + "0000"):
                if r not in wanted:
                    wanted.append(r)
        out: list[Policy] = []
        for r in wanted:
            out.extend(
                p
                for p in sorted(self.policies.values(), key=lambda p: p.id)
                if p.region == r and p.year == int(year)
            )
        return out

    def latest_for_region(self, region: str, year: int) -> list[Policy]:
        """Policies of the region (county, city, province) in force for ``year``: the
        newest 参保年度 not after it first, most specific region first within a year."""
        out: list[Policy] = []
        years = sorted(
            {p.year for p in self.policies.values() if p.year <= int(year)}, reverse=True
        )
        for y in years:
            out.extend(self.for_region_year(region, y))
        return out

    def listing(self) -> list[dict]:
        """One row per policy id (usable or not) for ``policies list`` and the GUI."""
        rows = [
            {
                "id": p.id,
                "region": p.region,
                "year": p.year,
                "title": p.title,
                "sections": sorted(p.sections),
                "origin": self.origins.get(p.id, "shipped"),
                "file": p.origin,
                "usable": True,
                "error": "",
            }
            for p in self.policies.values()
        ]
        for e in self.errors:
            rows.append(
                {
                    "id": e.policy_id,
                    "region": "",
                    "year": None,
                    "title": "",
                    "sections": [],
                    "origin": "",
                    "file": e.file,
                    "usable": False,
                    "error": f"{e.key}: {e.problem}",
                }
            )
        return sorted(rows, key=lambda r: r["id"])


def shipped_dir() -> Path:
    return paths.resource("policies")


def local_dir(data_dir: str | Path | None) -> Path | None:
    return Path(data_dir) / POLICY_DIRNAME if data_dir else None


def load_file(path: Path) -> Policy:
    """Read and validate one file; raises PolicyError naming the file and key."""
    name = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(name, "(file)", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(name, "(syntax)", f"TOML syntax error: {e}") from None
    except OSError as e:
        raise PolicyError(name, "(file)", f"cannot read: {e}") from None
    policy = parse_policy(data, name)
    if policy.id != path.stem:
        raise PolicyError(
            name, "policy.id", f"{policy.id!r} must equal the file name {path.stem!r}"
        )
    return policy


def check_files(files: list[str | Path]) -> list[LoadError]:
    out: list[LoadError] = []
    for f in files:
        p = Path(f)
        try:
            load_file(p)
        except PolicyError as e:
            out.append(LoadError(e.file, e.key, e.problem, p.stem))
    return out


def _files(folder: Path | None) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".toml" and p.is_file())


def _signature(files: list[Path]) -> tuple:
    sig = []
    for p in files:
        try:
            st = p.stat()
            sig.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            sig.append((str(p), 0, 0))
    return tuple(sig)


def _build(shipped: list[Path], local: list[Path]) -> PolicySet:
    ps = PolicySet()
    for origin, files in (("shipped", shipped), ("local", local)):
        for p in files:
            pid = p.stem
            try:
                pol = load_file(p)
            except PolicyError as e:
                ps.policies.pop(pid, None)
                ps.errors = [x for x in ps.errors if x.policy_id != pid]
                label = e.file if origin == "shipped" else f"{POLICY_DIRNAME}/{e.file}"
                ps.errors.append(LoadError(label, e.key, e.problem, pid))
                ps.origins[pid] = origin
                # for the technician (the screens say only that a file is unusable)
                log.warning("policy file not usable: %s: %s: %s", label, e.key, e.problem)
                continue
            ps.errors = [x for x in ps.errors if x.policy_id != pid]
            ps.policies[pid] = pol
            ps.origins[pid] = origin
    return ps


_lock = threading.Lock()
_cache: dict[str, tuple[tuple, PolicySet]] = {}


def load(data_dir: str | Path | None = None) -> PolicySet:
    """Shipped + local policies; cached per data_dir until a file is added, changed or removed."""
    shipped = _files(shipped_dir())
    local = _files(local_dir(data_dir))
    sig = (_signature(shipped), _signature(local))
    key = str(Path(data_dir).resolve()) if data_dir else ""
    with _lock:
        hit = _cache.get(key)
        if hit and hit[0] == sig:
            return hit[1]
    ps = _build(shipped, local)
    with _lock:
        _cache[key] = (sig, ps)
    return ps


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def get(policy_id: str, data_dir: str | Path | None = None) -> Policy:
    return load(data_dir).get(policy_id)


def for_region_year(region: str, year: int, data_dir: str | Path | None = None) -> list[Policy]:
    return load(data_dir).for_region_year(region, year)
