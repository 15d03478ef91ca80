"""Server settings: from environment variables or a TOML settings file, checked at start-up.

Environment (each overrides the file):
  TOWNSHIP_COUNTY_SETTINGS      path of a TOML file with the keys below
  TOWNSHIP_COUNTY_DATABASE_URL  e.g. postgresql://township:secret@localhost:5432/township
  TOWNSHIP_COUNTY_SIGNING_KEY   ≥ 32 characters; signs device tokens and snapshot tokens
  TOWNSHIP_COUNTY_ADMIN_KEY     optional; bearer key of the /api/v1/admin endpoints
  TOWNSHIP_COUNTY_BIND          host:port (default 127.0.0.1:8780)
  TOWNSHIP_COUNTY_TOKEN_TTL     seconds (default 900)
  TOWNSHIP_COUNTY_DATA_KEY      optional, ≥ 32 characters: seals receipt and escrowed keys
                                (default: derived from the signing key)
  TOWNSHIP_COUNTY_TLS_CERT      the server's certificate chain (PEM): serve HTTPS
  TOWNSHIP_COUNTY_TLS_KEY       its private key (PEM; readable by the service user only)
  TOWNSHIP_COUNTY_UPDATES_DIR   where the mirrored application updates are kept (a signed
                                release repository; `township-county updates import`)
  TOWNSHIP_COUNTY_WORKERS       worker processes of `serve` (default 1; see README)
  TOWNSHIP_COUNTY_DATABASE_POOLED   "true" when DATABASE_URL is PgBouncer in transaction
                                pooling (no server-side prepared statements)
  TOWNSHIP_COUNTY_DATABASE_DIRECT_URL  PostgreSQL itself, not the pooler: migrations take a
                                session lock there (default: DATABASE_URL)
  TOWNSHIP_COUNTY_DATABASE_READ_URL    optional: a streaming replica the console's report
                                pages and exports read from (counting stays on the primary)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from core.syncproto import TOKEN_TTL_SECONDS

ENV = {
    "database_url": "TOWNSHIP_COUNTY_DATABASE_URL",
    "signing_key": "TOWNSHIP_COUNTY_SIGNING_KEY",
    "admin_key": "TOWNSHIP_COUNTY_ADMIN_KEY",
    "bind": "TOWNSHIP_COUNTY_BIND",
    "token_ttl": "TOWNSHIP_COUNTY_TOKEN_TTL",
    "data_key": "TOWNSHIP_COUNTY_DATA_KEY",
    "tls_cert_file": "TOWNSHIP_COUNTY_TLS_CERT",
    "tls_key_file": "TOWNSHIP_COUNTY_TLS_KEY",
    "updates_dir": "TOWNSHIP_COUNTY_UPDATES_DIR",
    "workers": "TOWNSHIP_COUNTY_WORKERS",
    "database_pooled": "TOWNSHIP_COUNTY_DATABASE_POOLED",
    "database_direct_url": "TOWNSHIP_COUNTY_DATABASE_DIRECT_URL",
    "database_read_url": "TOWNSHIP_COUNTY_DATABASE_READ_URL",
}


class SettingsError(ValueError):
    """A setting that cannot be used (Chinese message for the county IT admin)."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    signing_key: str
    admin_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8780
    token_ttl: int = TOKEN_TTL_SECONDS
    code_ttl_hours: int = 72
    pool_min: int = 1
    pool_max: int = 8
    # rate limits (429 with Retry-After): per address per 10 minutes, per device per minute
    register_tries: int = 10
    admin_failures: int = 10
    device_requests: int = 600
    device_window: int = 60  # seconds of the per-device limit
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    data_key: str | None = None  # seals secrets at rest (county.sealing); else signing_key
    console_session_minutes: int = 30  # a console session ends after this long unused
    report_refresh_minutes: int = 10  # the console's report figures are counted this often
    updates_dir: str | None = None  # the mirrored release repository (None: no updates served)
    workers: int = 1  # worker processes of `serve` (issue 18)
    database_pooled: bool = False  # database_url is PgBouncer, transaction pooling
    database_direct_url: str | None = None  # PostgreSQL itself (migrations); else database_url
    database_read_url: str | None = None  # a replica for the console's reports (optional)

    @property
    def direct_url(self) -> str:
        """Where migrations run: they hold a session lock, which a transaction pooler
        cannot keep."""
        return self.database_direct_url or self.database_url

    @property
    def sealing_secret(self) -> str:
        return self.data_key or self.signing_key

    def validate(self) -> Settings:
        if not self.database_url:
            raise SettingsError(
                f"缺少数据库地址：请设置 {ENV['database_url']} 或设置文件中的 database_url"
            )
        if len(self.signing_key or "") < 32:
            raise SettingsError(
                f"签名密钥太短：{ENV['signing_key']} 至少32个字符（可用 openssl rand -hex 32 生成）"
            )
        if self.admin_key is not None and len(self.admin_key) < 16:
            raise SettingsError(f"管理密钥太短：{ENV['admin_key']} 至少16个字符")
        if not (1 <= self.port <= 65535):
            raise SettingsError("监听端口应为1-65535")
        if not (30 <= self.token_ttl <= 24 * 3600):
            raise SettingsError("令牌有效期应为30秒到24小时")
        for name in ("register_tries", "admin_failures", "device_requests", "device_window"):
            if not (1 <= getattr(self, name) <= 100_000):
                raise SettingsError(f"限流设置 {name} 应为1到100000")
        if not (5 <= self.console_session_minutes <= 24 * 60):
            raise SettingsError("控制台会话时长 console_session_minutes 应为5到1440分钟")
        if not (1 <= self.report_refresh_minutes <= 24 * 60):
            raise SettingsError("报表统计间隔 report_refresh_minutes 应为1到1440分钟")
        if not (1 <= self.workers <= 64):
            raise SettingsError("工作进程数 workers 应为1到64")
        if self.data_key is not None and len(self.data_key) < 32:
            raise SettingsError(f"数据密钥太短：{ENV['data_key']} 至少32个字符")
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise SettingsError("HTTPS 需要同时设置证书 tls_cert_file 和私钥 tls_key_file")
        for f in (self.tls_cert_file, self.tls_key_file):
            if f and not Path(f).is_file():
                raise SettingsError(f"找不到证书或私钥文件：{f}")
        return self

    def with_(self, **kw) -> Settings:
        return replace(self, **kw).validate()


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"应为 true 或 false：{value!r}")


def _parse_bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise SettingsError(f"监听地址格式应为 主机:端口，例如 0.0.0.0:8780（收到 {value!r}）")
    return host or "0.0.0.0", int(port)


def load_settings(file: str | Path | None = None, env: dict | None = None) -> Settings:
    env = os.environ if env is None else env
    values: dict = {}
    file = file or env.get("TOWNSHIP_COUNTY_SETTINGS")
    if file:
        p = Path(file)
        try:
            values.update(tomllib.loads(p.read_text(encoding="utf-8")))
        except FileNotFoundError as e:
            raise SettingsError(f"找不到设置文件：{p}") from e
        except tomllib.TOMLDecodeError as e:
            raise SettingsError(f"设置文件格式错误：{p}：{e}") from e
    for key, var in ENV.items():
        if env.get(var):
            values[key] = env[var]
    host, port = "127.0.0.1", 8780
    if "bind" in values:
        host, port = _parse_bind(str(values.pop("bind")))
    known = {
        "database_url",
        "signing_key",
        "admin_key",
        "token_ttl",
        "code_ttl_hours",
        "pool_min",
        "pool_max",
        "host",
        "port",
        "register_tries",
        "admin_failures",
        "device_requests",
        "device_window",
        "tls_cert_file",
        "tls_key_file",
        "data_key",
        "console_session_minutes",
        "report_refresh_minutes",
        "updates_dir",
        "workers",
        "database_pooled",
        "database_direct_url",
        "database_read_url",
    }
    unknown = set(values) - known
    if unknown:
        raise SettingsError(f"设置文件中有未知的设置项：{', '.join(sorted(unknown))}")
    try:
        s = Settings(
            database_url=str(values.get("database_url", "")),
            signing_key=str(values.get("signing_key", "")),
            admin_key=str(values["admin_key"]) if values.get("admin_key") else None,
            host=str(values.get("host", host)),
            port=int(values.get("port", port)),
            token_ttl=int(values.get("token_ttl", TOKEN_TTL_SECONDS)),
            code_ttl_hours=int(values.get("code_ttl_hours", 72)),
            pool_min=int(values.get("pool_min", 1)),
            pool_max=int(values.get("pool_max", 8)),
            register_tries=int(values.get("register_tries", 10)),
            admin_failures=int(values.get("admin_failures", 10)),
            device_requests=int(values.get("device_requests", 600)),
            device_window=int(values.get("device_window", 60)),
            tls_cert_file=str(values["tls_cert_file"]) if values.get("tls_cert_file") else None,
            tls_key_file=str(values["tls_key_file"]) if values.get("tls_key_file") else None,
            data_key=str(values["data_key"]) if values.get("data_key") else None,
            console_session_minutes=int(values.get("console_session_minutes", 30)),
            report_refresh_minutes=int(values.get("report_refresh_minutes", 10)),
            updates_dir=str(values["updates_dir"]) if values.get("updates_dir") else None,
            workers=int(values.get("workers", 1)),
            database_pooled=_flag(values.get("database_pooled", False)),
            database_direct_url=(
                str(values["database_direct_url"]) if values.get("database_direct_url") else None
            ),
            database_read_url=(
                str(values["database_read_url"]) if values.get("database_read_url") else None
            ),
        )
    except (TypeError, ValueError) as e:
        raise SettingsError(f"设置项的值无效：{e}") from e
    return s.validate()
