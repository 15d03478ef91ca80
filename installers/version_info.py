"""The Windows version resource of township-desk.exe and township-desk-console.exe (shown in
Explorer's 属性 → 详细信息 and read by the installer and the county technician), written as
the text PyInstaller's ``EXE(version=…)`` reads (``VSVersionInfo`` in its documented form)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = """VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={nums}, prodvers={nums}, mask=0x3f, flags=0x0, OS=0x40004,
    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('080404b0', [
      StringStruct('CompanyName', '乡镇医保服务窗口项目'),
      StringStruct('FileDescription', '{description}'),
      StringStruct('FileVersion', '{version}'),
      StringStruct('InternalName', '{name}'),
      StringStruct('LegalCopyright', 'Apache-2.0'),
      StringStruct('OriginalFilename', '{name}.exe'),
      StringStruct('ProductName', '乡镇医保服务窗口'),
      StringStruct('ProductVersion', '{version}')])]),
    VarFileInfo([VarStruct('Translation', [2052, 1200])])
  ]
)
"""


def version() -> str:
    """``desktop.__version__`` read from the source (the spec must not import the app)."""
    text = (ROOT / "desktop" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def write(folder: Path, name: str, description: str) -> Path:
    v = version()
    nums = tuple(([int(p) for p in re.findall(r"\d+", v)] + [0, 0, 0, 0])[:4])
    path = folder / f"{name}-version.txt"
    path.write_text(
        TEMPLATE.format(nums=nums, version=v, name=name, description=description),
        encoding="utf-8",
    )
    return path
