"""Paper at the window: make the PDF of a receipt, an enrollment certificate, an estimate
sheet or an operator's day sheet; record every print, reprint, failed print and saved PDF;
verify a receipt's code.

How printing is recorded (nothing is marked printed that was not):

1. :func:`prepare` (or :func:`prepare_batch`) builds the PDF for the NEXT copy of each
   document: copy 1 is the original, copy n > 1 is marked 补打（第n-1次）. The copy number is
   the number of copies already handed out (``print_log`` rows with status ``printed`` or
   ``saved``) plus one. Preparing writes nothing except, for a receipt, the snapshot of its
   content the first time (so a reprint shows what the original showed).
2. The caller sends the PDF to the printer (the GUI: :mod:`desktop.gui.print_support`), then
   calls :func:`record_printed` only when the printer accepted the job, or
   :func:`record_failed` with the error. :func:`print_with` does both around a ``send``
   function. :func:`save_pdf` writes the file and records ``saved`` (a saved PDF is a copy:
   the next copy is marked 补打).
3. Every outcome is one write transaction: a ``print_log`` row and an audit entry
   (``document.print``, ``document.reprint``, ``document.print_failed``, ``document.save``).

ID numbers are shown in full only on the original receipt and certificate handed to the
person; every other copy, the estimate sheet and the day sheet mask them (1101**********002X).
"""

from __future__ import annotations

from desktop.services.receipts.common import (  # noqa: F401
    CHANNEL_LABELS,
    KEY_MAC_KEY,
    KEY_MAC_KEY_ID,
    KEY_MAC_RETIRED,
    KINDS,
    LIVE,
    PAYMENT_STATUS,
    SHEET_PAGE,
    PrintFailed,
)
from desktop.services.receipts.demo import (  # noqa: F401
    write_demo_documents,
)
from desktop.services.receipts.documents import (  # noqa: F401
    Prepared,
    build_document,
    copies_handed_out,
    prepare,
    prepare_batch,
    print_history,
    print_with,
    record_failed,
    record_printed,
    save_pdf,
)
from desktop.services.receipts.facts import (  # noqa: F401
    certificate_facts,
    day_sheet_facts,
    day_sheet_key,
    estimate_facts,
    receipt_facts,
    receipt_facts_from_db,
)
from desktop.services.receipts.keys import (  # noqa: F401
    install_county_key,
    mac_key,
    set_mac_key,
)
from desktop.services.receipts.lists import (  # noqa: F401
    certificate_list,
    day_sheet_list,
    recent_receipts,
)
from desktop.services.receipts.verify import (  # noqa: F401
    verify,
)
from desktop.store.numbering import parse_receipt_no  # noqa: F401 (the pages' way to read a number)
