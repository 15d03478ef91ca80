"""Secrets of this device (the county-issued device credential, the short-lived token) kept
in the operating system's credential store through the ``keyring`` package.

Only short strings are stored: Windows Credential Manager caps one credential at 2,560
bytes (stored as UTF-16), so a value longer than that is refused here, on every platform,
before it can fail on a window PC. ``keyrings.alt`` (plain-text files) is never used: a PC
without a real backend gets a clear Chinese message instead.
"""

from __future__ import annotations

import keyring
import keyring.errors

from core.errors import CodedError

SERVICE = "township-desk"
WINDOWS_BLOB_LIMIT = 2560  # bytes, CRED_MAX_CREDENTIAL_BLOB_SIZE; keyring stores UTF-16

NO_BACKEND_MSG = (
    "本机没有可用的系统凭据库（钥匙串），无法安全保存数据库钥匙和设备凭证。"
    "Windows 请确认“凭据管理器”服务已启动；Linux 请安装并解锁 GNOME Keyring 或 KWallet。"
    "处理后重新打开本软件；如仍失败请联系县医保局技术人员。"
)


class CredentialError(CodedError):
    """The credential store cannot be used (message in Chinese, for the clerk)."""

    code = "E-KEYRING-001"


def secret_size(secret: str) -> int:
    """Bytes the secret takes in Windows Credential Manager (UTF-16-LE)."""
    return len(secret.encode("utf-16-le"))


class CredentialStore:
    """get/set/delete of named secrets under one service name in the OS keyring."""

    def __init__(self, service: str = SERVICE):
        self.service = service

    def _backend(self):
        backend = keyring.get_keyring()
        # keyring's "fail" backend (no viable backend on this PC) has priority 0
        name = type(backend).__module__ + "." + type(backend).__name__
        if name.startswith("keyring.backends.fail") or name.startswith("keyrings.alt"):
            raise CredentialError(NO_BACKEND_MSG)
        return backend

    def get(self, name: str) -> str | None:
        try:
            return self._backend().get_password(self.service, name)
        except keyring.errors.NoKeyringError as e:
            raise CredentialError(NO_BACKEND_MSG) from e
        except keyring.errors.KeyringError as e:
            raise CredentialError(f"读取系统凭据库失败：{e}。请重启电脑后重试。") from e

    def set(self, name: str, secret: str) -> None:
        if not name or not secret:
            raise ValueError("credential name and secret must not be empty")
        if secret_size(secret) > WINDOWS_BLOB_LIMIT:
            raise CredentialError(
                f"凭证长度{secret_size(secret)}字节，超过系统凭据库上限"
                f"{WINDOWS_BLOB_LIMIT}字节，无法保存。请联系县医保局技术人员。"
            )
        try:
            self._backend().set_password(self.service, name, secret)
        except keyring.errors.NoKeyringError as e:
            raise CredentialError(NO_BACKEND_MSG) from e
        except keyring.errors.KeyringError as e:
            raise CredentialError(f"写入系统凭据库失败：{e}。请重启电脑后重试。") from e

    def delete(self, name: str) -> None:
        try:
            self._backend().delete_password(self.service, name)
        except keyring.errors.PasswordDeleteError:
            return  # nothing stored under that name
        except keyring.errors.NoKeyringError as e:
            raise CredentialError(NO_BACKEND_MSG) from e
