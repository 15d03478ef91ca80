"""The common 二代身份证 desktop readers, through their vendor library's ``termb.dll``
interface (the same C functions on every brand that ships it):

* ``int CVR_InitComm(int port)`` — 1 when a reader answers on ``port`` (USB 1001–1016,
  serial 1–16);
* ``int CVR_Authenticate(void)`` — 1 when a card lies on the reader;
* ``int CVR_Read_Content(int active)`` — 1 when the card's text (and photo) was read;
* ``int GetPeopleName(char *buf, int *len)`` and ``GetPeopleSex``, ``GetPeopleNation``,
  ``GetPeopleBirthday``, ``GetPeopleAddress``, ``GetPeopleIDCode``, ``GetDepartment``,
  ``GetStartDate``, ``GetEndDate`` — the fields as GBK text;
* ``int GetBMPData(unsigned char *buf, int *len)`` — the photo (BMP), read only when asked;
* ``int CVR_CloseComm(void)``.

The library is loaded with ctypes (``WinDLL`` on Windows, ``CDLL`` elsewhere — the tests
build a fake with the same interface). A keyboard-wedge reader needs none of this: it types
the number into the search box. Errors carry a code and a Chinese message a clerk can act on.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

from core.categories import ETHNICITIES
from core.errors import CodedError
from core.ids import check_id

USB_PORTS = tuple(range(1001, 1017))
SERIAL_PORTS = tuple(range(1, 17))
TEXT_FIELDS = {
    "name": "GetPeopleName",
    "sex": "GetPeopleSex",
    "nation": "GetPeopleNation",
    "birthday": "GetPeopleBirthday",
    "address": "GetPeopleAddress",
    "cert_no": "GetPeopleIDCode",
    "department": "GetDepartment",
    "valid_from": "GetStartDate",
    "valid_to": "GetEndDate",
}
BUFFER = 256
PHOTO_BUFFER = 64 * 1024


class CardError(CodedError):
    """A read that did not work, with what to do (code for the log)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


NO_LIBRARY = "E-CARD-LIB"
NO_READER = "E-CARD-READER"
NO_CARD = "E-CARD-NOCARD"
READ_FAILED = "E-CARD-READ"
BAD_DATA = "E-CARD-DATA"


@dataclass(frozen=True)
class CardData:
    name: str
    sex: str  # male | female
    ethnicity: str  # code of ETHNICITIES ('' when the card's 民族 is not in the table)
    birth_date: str  # YYYY-MM-DD
    address: str
    cert_no: str
    department: str  # 签发机关
    valid_from: str
    valid_to: str
    photo: bytes | None = None  # only when asked for (personal data)


def _date(text: str) -> str:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date().isoformat()
    except ValueError:
        return text  # 长期 and the like stay as printed


class TermbReader:
    """One reader behind a vendor library. ``port`` 0 = find it (USB first, then serial)."""

    def __init__(self, library: str | Path, port: int = 0):
        self.library = str(library)
        self.port = int(port or 0)
        self._lib = None

    def _load(self):
        if self._lib is not None:
            return self._lib
        if not self.library or not Path(self.library).exists():
            raise CardError(
                "找不到身份证阅读器的接口库（termb.dll），请在系统设置中填写阅读器厂家提供的文件位置",
                NO_LIBRARY,
            )
        loader = ctypes.WinDLL if sys.platform == "win32" else ctypes.CDLL  # type: ignore[attr-defined]
        try:
            lib = loader(self.library)
            for fn in ("CVR_InitComm", "CVR_Authenticate", "CVR_Read_Content", "CVR_CloseComm"):
                getattr(lib, fn).restype = ctypes.c_int
        except (OSError, AttributeError):
            raise CardError(
                "身份证阅读器的接口库无法使用（文件损坏或不是阅读器的接口库），请联系技术人员",
                NO_LIBRARY,
            ) from None
        self._lib = lib
        return lib

    def _open(self, lib) -> None:
        ports = (self.port,) if self.port else USB_PORTS + SERIAL_PORTS
        for port in ports:
            if lib.CVR_InitComm(ctypes.c_int(port)) == 1:
                return
        raise CardError(
            "没有找到身份证阅读器：请检查阅读器的USB线是否插好、指示灯是否亮", NO_READER
        )

    def _text(self, lib, fn: str) -> str:
        buf = ctypes.create_string_buffer(BUFFER)
        size = ctypes.c_int(BUFFER)
        if getattr(lib, fn)(buf, ctypes.byref(size)) != 1:
            raise CardError("身份证信息读取不完整，请把身份证放稳后重新读卡", READ_FAILED)
        raw = buf.raw[: max(0, min(size.value, BUFFER))].split(b"\0", 1)[0]
        try:
            return raw.decode("gbk").strip()
        except UnicodeDecodeError:
            raise CardError(
                "读到的身份证信息无法识别，请重新读卡；多次出现请更换阅读器", BAD_DATA
            ) from None

    def _photo(self, lib) -> bytes | None:
        buf = ctypes.create_string_buffer(PHOTO_BUFFER)
        size = ctypes.c_int(PHOTO_BUFFER)
        if lib.GetBMPData(buf, ctypes.byref(size)) != 1:
            return None
        return buf.raw[: max(0, min(size.value, PHOTO_BUFFER))]

    def read(self, *, photo: bool = False) -> CardData:
        """Read the card on the reader; raises CardError with what to do."""
        lib = self._load()
        self._open(lib)
        try:
            if lib.CVR_Authenticate() != 1:
                raise CardError("阅读器上没有身份证：请把身份证平放在阅读器上再读卡", NO_CARD)
            if lib.CVR_Read_Content(ctypes.c_int(4)) != 1:
                raise CardError("读卡时身份证被移开或没放稳，请放稳后重新读卡", READ_FAILED)
            text = {k: self._text(lib, fn) for k, fn in TEXT_FIELDS.items()}
            picture = self._photo(lib) if photo else None
        finally:
            lib.CVR_CloseComm()
        return _card(text, picture)


def _card(text: dict[str, str], picture: bytes | None) -> CardData:
    chk = check_id(text["cert_no"])
    if not chk.valid:
        raise CardError(f"读到的身份证号码无效（{chk.message}），请重新读卡或手工输入", BAD_DATA)
    if not text["name"]:
        raise CardError("读到的姓名为空，请重新读卡", BAD_DATA)
    nation = text["nation"].removesuffix("族")
    ethnicity = next(
        (c for c, label in ETHNICITIES.items() if label.removesuffix("族") == nation), ""
    )
    return CardData(
        name=text["name"],
        sex=chk.sex or "",
        ethnicity=ethnicity,
        birth_date=chk.birth_date.isoformat(),
        address=text["address"],
        cert_no=chk.normalized,
        department=text["department"],
        valid_from=_date(text["valid_from"]),
        valid_to=_date(text["valid_to"]),
        photo=picture,
    )
