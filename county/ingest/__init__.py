"""Push: apply a batch of desktop operations exactly once.

One transaction per batch, one savepoint per op: a rejected op rolls back only itself.
Every op is stored with its payload hash and result (``applied_op``): the same op again
returns the stored result; the same op_id with another hash is rejected.
"""

from __future__ import annotations

from county.ingest.common import (  # noqa: F401
    LINK_FIELDS,
    BatchRetry,
    Device,
    log,
)
from county.ingest.persons import (  # noqa: F401
    det_id_for,
)
from county.ingest.push import (  # noqa: F401
    apply_op,
    push_batch,
)
from county.ingest.updates import (  # noqa: F401
    FIXED,
    TABLES,
)
