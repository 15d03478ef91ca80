"""Contributions at the window (代收): quotes, payments, voids and refunds, status per year,
the yearly campaign list and its export, and county confirmations from sync.

Every change runs in ONE write transaction with its audit entry and outbox operation
(``enrollment.create`` / ``enrollment.update``, ``payment.record``, ``payment.void``,
``payment.refund``). Bad input raises :class:`ValidationError` (field → Chinese message)
before anything is written. Which policy applies: the person's region (exact, city,
province — :func:`desktop.services.policies.for_region_year`), else the national default
(region ``000000``) for that 参保年度; the policy must have a ``[contribution]`` section.

For the sync engineer — county confirmations::

    apply_county_confirmations(store, [
        {"payment_id": "…" | "receipt_no": "SP01-01-00000042",
         "confirmed_at": "2025-01-05T10:00:00+08:00", "ref": "tax bureau reference"},
    ], operator_id=None)
    -> {"confirmed": [...ids], "already": [...ids], "not_found": [...keys],
        "not_live": [...ids]}

A year the county reports as paid without a local payment (paid elsewhere) counts as paid
when its enrollment row carries ``county_confirmed_at``.

It marks each live payment ``confirmed`` (status, ``confirmed_at``, ``confirmed_ref``,
``server_version`` if given as ``version``) and the enrollment's ``county_confirmed_at``,
audited as ``payment.confirm`` with no outbox op (the fact came from the county). It is
idempotent (a payment already confirmed is reported under ``already``) and runs in the
caller's transaction if there is one. A voided/refunded payment is not revived.
"""

from __future__ import annotations

from desktop.services.contribution.campaign import (  # noqa: F401
    EXPORT_COLUMNS,
    campaign,
    export_csv,
    export_xlsx,
)
from desktop.services.contribution.common import (  # noqa: F401
    CHANNELS,
    DEFAULT_STALE_HOURS,
    LIVE,
    NATIONAL_REGION,
    STATUS_LABELS,
    policy_for,
    quote,
)
from desktop.services.contribution.confirmations import (  # noqa: F401
    apply_county_confirmations,
)
from desktop.services.contribution.demo import (  # noqa: F401
    seed_demo_payments,
)
from desktop.services.contribution.payments import (  # noqa: F401
    BACKDATE_REASON_MAX,
    check_payment,
    record_payment,
)
from desktop.services.contribution.status import (  # noqa: F401
    status_years,
    sync_banner,
)
from desktop.services.contribution.voids import (  # noqa: F401
    void_payment,
)
