"""PDF reports (reportlab) from the plain dataclasses in ``app.reports.data``.

Services fill the dataclasses (``app/services/reporting.py``); each ``render_*`` function lays one out and
returns the page count. Nothing here opens the store.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from .annual import render_annual
from .data import (
    AnnualReportData,
    AuditReportData,
    DestructionCertificateData,
    DistributionLetterData,
    DsaRegisterData,
    InvoiceData,
    MeetingData,
    RequestStatusData,
)
from .forms import render_destruction_certificate, render_distribution_letter, render_invoice
from .meeting import render_meeting
from .registers import render_audit, render_dsa_register, render_request_status

_RENDERERS: dict[type, Callable[[Any, Any], int]] = {
    AnnualReportData: render_annual,
    RequestStatusData: render_request_status,
    DsaRegisterData: render_dsa_register,
    MeetingData: render_meeting,
    InvoiceData: render_invoice,
    DistributionLetterData: render_distribution_letter,
    DestructionCertificateData: render_destruction_certificate,
    AuditReportData: render_audit,
}


def render(data: object, out: str | Path | BinaryIO) -> int:
    """Render any report input dataclass to ``out`` (path or binary file); returns the page count.

    Raises TypeError for an object that is not one of the ``app.reports.data`` inputs.
    """
    try:
        renderer = _RENDERERS[type(data)]
    except KeyError:
        raise TypeError(f"no report renders {type(data).__name__}") from None
    return renderer(data, out)
