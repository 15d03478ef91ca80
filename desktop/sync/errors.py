"""Sync failures, each with a Chinese message that tells the clerk what to do next and a
short code for the log and for technicians."""

from __future__ import annotations


class SyncError(Exception):
    code = "E-SYNC"
    default = (
        "同步未完成，数据仍安全保存在本机。请稍后再点“立即同步”；如仍失败请联系县医保局技术人员。"
    )

    def __init__(self, message: str | None = None, *, detail: str = ""):
        self.message = message or self.default
        self.detail = detail
        super().__init__(self.message)


class DiskFull(SyncError):
    code = "E-DISK-001"
    default = (
        "磁盘空间已满，同步没有完成；本机已保存的数据没有受影响，未上传的记录下次同步时会上传。"
        "请清理磁盘（或请技术人员处理）后再点“立即同步”。"
    )


class NotRegistered(SyncError):
    code = "E-SYNC-NOREG"
    default = (
        "本机尚未注册到县医保服务器，不能同步。请在“同步”页点“注册本机”，"
        "填写县医保局提供的服务器地址和一次性注册码。"
    )


class Offline(SyncError):
    code = "E-SYNC-OFFLINE"
    default = (
        "连不上县医保服务器（网络不通或服务器没有开）。已录入的数据都保存在本机，不会丢失；"
        "请检查网络后再点“立即同步”，网络恢复后也会自动同步。"
    )


class ServerFailed(SyncError):
    code = "E-SYNC-SERVER"
    default = (
        "县医保服务器暂时出错，多次重试仍未成功。数据仍保存在本机，请过一会儿再同步；"
        "如一直这样请联系县医保局。"
    )


class AuthFailed(SyncError):
    code = "E-SYNC-AUTH"
    default = (
        "县医保服务器不再认可本机的设备凭证（可能已被注销）。请联系县医保局领取新的注册码，"
        "然后在“同步”页重新注册本机。"
    )


class RegistrationFailed(SyncError):
    code = "E-SYNC-REGCODE"
    default = "注册码无效、已用过或已过期。请向县医保局重新领取注册码。"


class TooOld(SyncError):
    code = "E-SYNC-VERSION"
    default = (
        "本软件版本过旧，县医保服务器已不再接受。已录入的数据仍保存在本机，"
        "请联系技术人员升级软件后再同步。"
    )


class Busy(SyncError):
    code = "E-SYNC-BUSY"
    default = "另一个同步正在进行（可能是定时同步或命令行），请等它完成后再试。"


class ProtocolFailed(SyncError):
    code = "E-SYNC-PROTO"
    default = "县医保服务器拒绝了同步请求。数据仍保存在本机，请联系县医保局技术人员并告知错误代码。"


class CredentialMissing(SyncError):
    code = "E-SYNC-KEYRING"


class InsecureServer(SyncError):
    code = "E-SYNC-TLS"
    default = (
        "服务器地址必须以 https:// 开头（加密连接），本机不向未加密的地址发送参保人信息。"
        "请向县医保局技术人员核对服务器地址。"
    )


class CertificateRejected(SyncError):
    code = "E-SYNC-TLS"
    default = (
        "县医保服务器的身份证书不对（可能连到了冒充的服务器），为安全起见本机没有发送任何数据。"
        "数据仍保存在本机；请联系县医保局技术人员核实服务器和证书。"
    )


class CertificateExpired(CertificateRejected):
    default = (
        "县医保服务器的证书已过期，为安全起见本机没有发送任何数据。数据仍保存在本机；"
        "请联系县医保局技术人员更新服务器证书后再同步。"
    )


class BadCaFile(SyncError):
    code = "E-SYNC-TLS"
    default = "县医保局证书文件无法读取或不是证书（应为 .pem 或 .crt 文件）。请向县医保局重新领取。"


class DeviceDisabled(SyncError):
    code = "E-SYNC-DISABLED"
    default = (
        "本机已被县医保局停用（报失或换下）。本机未上传的数据已全部上传到县里，"
        "本机保存的参保人信息已清除，软件将关闭。如需继续使用这台电脑，请联系县医保局重新注册。"
    )
