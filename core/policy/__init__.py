"""Policy files: parameters per region and 参保年度, each with its source.

A policy is a TOML document (read by ``desktop.services.policies``) with a ``[policy]``
table (id, region, year, title, source) and one table per *section*. Each section is
parsed by a function registered with :func:`register_section`, which reads the table
through a :class:`Reader`: typed getters that fail with a :class:`PolicyError` naming the
file, the key and the problem, so a wrong file never silently changes a result.

Sections: ``inpatient``, ``outpatient``, ``dabing``, ``assistance``, … (reimbursement;
``core.policy.benefits``) and ``contribution`` (``core.policy.contribution``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from core.categories import is_known_category
from core.policy.citation import looks_internal, readable


class PolicyError(ValueError):
    """A policy file that cannot be used: ``file``, ``key`` (dotted path) and ``problem``."""

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}")


_MISSING = object()
# the region code of a national policy file: the default where a region has none of its own
NATIONAL_REGION = "000000"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


class Reader:
    """Typed, source-checked access to one TOML table. Every key must be read: keys left
    over at :meth:`done` are reported as unknown (a typo never passes silently)."""

    def __init__(self, data: Any, file: str, path: str):
        if not isinstance(data, dict):
            raise PolicyError(file, path, "must be a table")
        self.data, self.file, self.path = data, file, path
        self._seen: set[str] = set()

    def key(self, k: str) -> str:
        return f"{self.path}.{k}" if self.path else k

    def error(self, k: str, problem: str) -> PolicyError:
        return PolicyError(self.file, self.key(k), problem)

    def has(self, k: str) -> bool:
        return k in self.data

    def raw(self, k: str, default: Any = _MISSING) -> Any:
        self._seen.add(k)
        if k not in self.data:
            if default is _MISSING:
                raise self.error(k, "missing")
            return default
        return self.data[k]

    def str(self, k: str, default: Any = _MISSING, choices: Any = None) -> Any:
        v = self.raw(k, default)
        if v is default and default is not _MISSING:
            return v
        if not isinstance(v, str) or not v.strip():
            raise self.error(k, "must be a non-empty string")
        if choices is not None and v not in choices:
            raise self.error(k, f"unknown value {v!r}; expected one of {sorted(choices)}")
        if k == "source" or k.endswith("_source"):
            # what reaches screens and paper: no archive file names or internal notes
            return readable(v)
        return v

    def bool(self, k: str, default: Any = _MISSING) -> Any:
        v = self.raw(k, default)
        if v is default and default is not _MISSING:
            return v
        if not isinstance(v, bool):
            raise self.error(k, "must be true or false")
        return v

    def int(
        self, k: str, default: Any = _MISSING, *, min: int | None = None, max: int | None = None
    ) -> Any:
        v = self.raw(k, default)
        if v is default and default is not _MISSING:
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.error(k, "must be a whole number")
        if (min is not None and v < min) or (max is not None and v > max):
            raise self.error(k, f"{v} is out of range [{min}, {max}]")
        return v

    def decimal(
        self,
        k: str,
        default: Any = _MISSING,
        *,
        min: Decimal | None = Decimal(0),
        max: Decimal | None = None,
    ) -> Any:
        """A number written as a string ("0.85", "1000.00") or an integer; floats refused."""
        v = self.raw(k, default)
        if v is default and default is not _MISSING:
            return v
        return self.to_decimal(k, v, min=min, max=max)

    def to_decimal(
        self, k: str, v: Any, *, min: Decimal | None = Decimal(0), max: Decimal | None = None
    ) -> Decimal:
        if isinstance(v, (bool, float)):
            raise self.error(k, 'write the number as a string, e.g. "0.85" (no floats)')
        if isinstance(v, int):
            d = Decimal(v)
        elif isinstance(v, str):
            try:
                d = Decimal(v.strip())
            except InvalidOperation:
                raise self.error(k, f"{v!r} is not a number") from None
        else:
            raise self.error(k, "must be a number written as a string")
        if not d.is_finite():
            raise self.error(k, "must be a finite number")
        if min is not None and d < min:
            raise self.error(k, f"{d} is below {min}")
        if max is not None and d > max:
            raise self.error(k, f"{d} is above {max}")
        return d

    def money(self, k: str, default: Any = _MISSING) -> Any:
        v = self.decimal(k, default)
        if isinstance(v, Decimal) and v != v.quantize(Decimal("0.01")):
            raise self.error(k, "money has at most two decimals")
        return v

    def ratio(self, k: str, default: Any = _MISSING) -> Any:
        """A share between 0 and 1 ("0.85")."""
        return self.decimal(k, default, min=Decimal(0), max=Decimal(1))

    def date(self, k: str, default: Any = _MISSING) -> Any:
        v = self.raw(k, default)
        if v is default and default is not _MISSING:
            return v
        if isinstance(v, dt.datetime):
            raise self.error(k, "must be a date (YYYY-MM-DD), not a date-time")
        if isinstance(v, dt.date):
            return v
        if isinstance(v, str):
            try:
                return dt.date.fromisoformat(v)
            except ValueError:
                pass
        raise self.error(k, f"{v!r} is not a date (YYYY-MM-DD)")

    def categories(self, k: str, default: Any = _MISSING) -> Any:
        """A list of insured categories or category groups (see core.categories)."""
        v = self.raw(k, default)
        if v is default and default is not _MISSING:
            return v
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.error(k, "must be a list of category names")
        for name in v:
            if not is_known_category(name):
                raise self.error(k, f"unknown category {name!r}")
        return tuple(v)

    def category(self, k: str) -> str:
        """Check that a table key is a known category (for tables keyed by category)."""
        if not is_known_category(k):
            raise self.error(k, f"unknown category {k!r}")
        return k

    def table(self, k: str, default: Any = _MISSING) -> Any:
        v = self.raw(k, default)
        if v is default and default is not _MISSING:
            return v
        return Reader(v, self.file, self.key(k))

    def tables(self, k: str, default: Any = _MISSING) -> Any:
        """An array of tables ([[k]])."""
        v = self.raw(k, default)
        if v is default and default is not _MISSING:
            return v
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.error(k, "must be an array of tables")
        return [Reader(x, self.file, f"{self.key(k)}[{i}]") for i, x in enumerate(v)]

    def keys(self) -> list[str]:
        return list(self.data.keys())

    def source(self) -> str:
        """Every section (and any table that says where its figures come from) has a
        ``source`` (provenance: where the figures were read, for whoever checks the file).
        What screens and paper cite is ``cite`` when the table has one — the document by
        title, number and article (《…》…号 第…条) — else the source without file names."""
        provenance = self.str("source")
        return self.citation("cite") or provenance

    def citation(self, k: str) -> str:
        """A citation shown to people ('' when absent): no file names, no English words."""
        if not self.has(k):
            self.raw(k, None)
            return ""
        cite = self.raw(k)
        if not isinstance(cite, str) or not cite.strip():
            raise self.error(k, "must be a non-empty string")
        if looks_internal(cite) or re.search(r"[A-Za-z]{3,}", cite):
            raise self.error(k, f"{cite!r}: cite the document in words people read")
        return cite.strip()

    def done(self) -> None:
        extra = [k for k in self.data if k not in self._seen]
        if extra:
            raise self.error(extra[0], "unknown key (a typo?)")


SectionParser = Callable[[Reader], Any]
SECTION_PARSERS: dict[str, SectionParser] = {}
# Run after every section is read, with (file, sections): checks and figures that join
# sections (a limit stated as a multiple of another section's cap …); may replace sections.
FINISHERS: list[Callable[[str, dict[str, Any]], None]] = []


def register_finish(fn: Callable[[str, dict[str, Any]], None]) -> None:
    if fn not in FINISHERS:
        FINISHERS.append(fn)


def register_section(name: str) -> Callable[[SectionParser], SectionParser]:
    def inner(fn: SectionParser) -> SectionParser:
        SECTION_PARSERS[name] = fn
        return fn

    return inner


@dataclass(frozen=True)
class Policy:
    id: str
    region: str
    year: int
    title: str
    source: str
    origin: str  # the file it came from (for messages)
    sections: dict[str, Any] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.sections

    def section(self, name: str) -> Any:
        if name not in self.sections:
            raise PolicyError(self.origin, name, f"policy {self.id} has no [{name}] section")
        return self.sections[name]


def _load_section_modules() -> None:
    # imported for their register_section side effect
    from core.policy import assistance, benefits, contribution, monitoring  # noqa: F401


def parse_policy(data: dict, origin: str) -> Policy:
    """Build a Policy from parsed TOML; raises PolicyError naming ``origin`` and the key."""
    _load_section_modules()
    top = Reader(data, origin, "")
    meta = top.table("policy")
    pid = meta.str("id")
    if not _ID_RE.match(pid):
        raise meta.error("id", "use lower-case letters, digits, - and _ (e.g. shanxi-2025)")
    region = meta.str("region")
    if not (len(region) == 6 and region.isdigit()):
        raise meta.error("region", "must be a 6-digit region code (GB/T 2260)")
    year = meta.int("year", min=2000, max=2100)
    title = meta.str("title")
    document = meta.citation("document")
    source = meta.source()
    meta.done()
    sections: dict[str, Any] = {}
    for name in top.keys():
        if name == "policy":
            continue
        parser = SECTION_PARSERS.get(name)
        if parser is None:
            raise top.error(name, f"unknown section; known: {sorted(SECTION_PARSERS)}")
        sections[name] = parser(top.table(name))
    top.done()
    for finish in FINISHERS:
        finish(origin, sections)
    if not sections:
        raise top.error("policy", "the file has no sections (inpatient, dabing, contribution …)")
    return Policy(
        id=pid,
        region=region,
        year=year,
        title=title,
        source=document or source,
        origin=origin,
        sections=sections,
    )
