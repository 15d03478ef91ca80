"""What goes on paper: the content of receipts, certificates, estimate sheets and day
sheets, ID masking, and the keyed verification code (MAC) printed as a QR code.

Pure: no Qt, no database, no files. Services gather the facts from the store, these
functions check them and turn them into a :class:`Document` (plain data, JSON-serialisable,
stored as the snapshot a reprint shows again); ``desktop/documents`` renders a Document
with reportlab.

Domain notes §6 (the fields of 参保缴费凭证); a reprint is marked 补打 with its count.

Verification code (``TDR1`` payload, also printed as text under the QR code)::

    TDR1|<receipt no>|<amount paid, 0.00>|<payment date YYYY-MM-DD>|<key id>|<MAC>

MAC = the first 10 bytes of HMAC-SHA256(key, the payload before ``|<MAC>``), Base32 (16
characters, no padding). The key is the county's receipt key for this service point
(``key id`` names it), so the county can recompute the MAC for any receipt it is shown; a
changed number, amount or date gives a different MAC.
"""

from __future__ import annotations

from core.receipt.certificate import (  # noqa: F401
    CertificateFacts,
    certificate_document,
)
from core.receipt.day_sheet import (  # noqa: F401
    DayLine,
    DaySheetFacts,
    day_sheet_document,
)
from core.receipt.estimate import (  # noqa: F401
    ESTIMATE_TOTALS,
    EstimateFacts,
    EstimateStep,
    estimate_document,
)
from core.receipt.model import (  # noqa: F401
    INSURANCE_TYPES,
    KINDS,
    MAC_BYTES,
    PAYLOAD_PREFIX,
    SHORT_TITLES,
    Chart,
    Document,
    Field,
    Section,
    Table,
    benefit_period_text,
    fmt_date,
    fmt_time,
    money_text,
    region_label,
    reprint_mark,
    show_id,
)
from core.receipt.payment import (  # noqa: F401
    ReceiptFacts,
    check_receipt_facts,
    receipt_document,
)
from core.receipt.verify import (  # noqa: F401
    Verification,
    compute_mac,
    mac_message,
    parse_payload,
    verification_payload,
    verify_payload,
)
