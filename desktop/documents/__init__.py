"""PDF rendering of receipts, certificates, estimate and day sheets (reportlab, embedded
font). Content comes from :mod:`core.receipt`; nothing here touches the store."""

from desktop.documents.render import (
    DEFAULT_PAGE,
    PAGE_SIZES,
    RenderCancelled,
    render_document,
    render_documents,
)

__all__ = ["DEFAULT_PAGE", "PAGE_SIZES", "RenderCancelled", "render_document", "render_documents"]
