"""Documents sent to one party: a fee invoice, a fund-distribution letter, a destruction certificate form."""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from reportlab.platypus import Flowable, Spacer

from .data import DestructionCertificateData, DistributionLetterData, InvoiceData
from .formatting import long_date, money, number, short_date
from .layout import AUTHOR, Column, ReportInfo, build_pdf, facts, heading, label_value, no_activity
from .layout import signature_block
from .layout import table, text


def render_invoice(data: InvoiceData, out: str | Path | BinaryIO) -> int:
    """A fee invoice to a data recipient, with payments received and the balance due."""
    info = ReportInfo(f"Invoice {data.number}", f"P20 WIN data request fees, invoice {data.number}", data.as_of)
    story: list[Flowable] = [text(f"Invoice {data.number}", "h1"), text(AUTHOR)]
    story.append(facts([("Status", data.status), ("Issued", long_date(data.issued_on)),
                        ("Payment due", long_date(data.due_on))]))
    story += heading("Bill to", 2)
    story += [text(data.recipient), text(data.recipient_address)]
    if data.representative:
        story.append(label_value("Attention", data.representative))
    story += heading("For", 2)
    story.append(facts([("Request", f"{data.request_number}: {data.request_title}"),
                        ("Data sharing agreement", data.dsa_number)]))
    story.append(Spacer(1, 6))
    cols = [Column("Description", 3.6), Column("Quantity", 0.9, True), Column("Unit price", 1.2, True),
            Column("Amount", 1.2, True)]
    rows = [[i.description, number(i.quantity), money(i.unit_cents), money(i.amount_cents)] for i in data.items]
    story.append(table(cols, rows, total=["Total", "", "", money(data.total_cents)]))
    if data.payments:
        story += heading("Payments received", 2)
        story.append(table([Column("Received", 1.5), Column("Reference", 3), Column("Amount", 1.2, True)],
                           [[long_date(d), ref, money(c)] for d, c, ref in data.payments],
                           total=["Total paid", "", money(data.paid_cents)]))
    story.append(Spacer(1, 10))
    story.append(label_value("Balance due", money(data.balance_cents)))
    story.append(text("Please quote the invoice number with your payment. State agencies are billed under the "
                      "fee schedule in force when the agreement was executed.", "small"))
    return build_pdf(out, info, story)


def render_distribution_letter(data: DistributionLetterData, out: str | Path | BinaryIO) -> int:
    """A letter to an agency listing the funds distributed to it in a period under executed DSAs."""
    period = f"{long_date(data.period_start)} to {long_date(data.period_end)}"
    info = ReportInfo(f"Fund distribution: {data.agency_code}", f"P20 WIN funds distributed to {data.agency}, {period}",
                      data.as_of)
    story: list[Flowable] = [text(AUTHOR, "h2"), text(long_date(data.as_of)), Spacer(1, 12), text(data.agency),
                             Spacer(1, 12)]
    story.append(text(f"Dear {data.addressee}," if data.addressee else "Dear colleagues,"))
    if not data.items:
        story.append(text(f"No P20 WIN funds were distributed to {data.agency} from {period}."))
        story += no_activity("fund distribution", period)
    else:
        total = sum(i.cents for i in data.items)
        story.append(text(f"From {period} the Operating Group distributed {money(total)} to {data.agency} under the "
                          "data sharing agreements listed below, according to the approved budget and each "
                          "agreement's terms."))
        cols = [Column("Date", 1.1), Column("Agreement", 1.2), Column("Request", 2.6), Column("Instrument", 1.3),
                Column("Amount", 1.1, True)]
        story.append(table(cols, [[short_date(i.distributed_on), i.dsa_number, f"{i.request_number}: {i.request_title}",
                                   i.instrument, money(i.cents)] for i in data.items],
                           total=["Total", "", "", "", money(total)]))
        story.append(Spacer(1, 8))
        story.append(text("Please contact the Operating Group if these amounts differ from your records."))
    story += [Spacer(1, 14), text("Sincerely,"), Spacer(1, 20), text(data.signer), text(AUTHOR, "small")]
    return build_pdf(out, info, story)


def render_destruction_certificate(data: DestructionCertificateData, out: str | Path | BinaryIO) -> int:
    """The certificate form a recipient signs when it destroys the data (DSA exhibit), with any on file."""
    info = ReportInfo(f"Certificate of data destruction: {data.request_number}",
                      f"Destruction certificate form for {data.dsa_number or data.request_number}", data.as_of)
    story: list[Flowable] = [text("Certificate of data destruction", "h1")]
    story.append(facts([("Request", f"{data.request_number}: {data.request_title}"),
                        ("Data sharing agreement", data.dsa_number or "not yet executed"),
                        ("Data recipient", data.recipient),
                        ("Authorized Representative", data.representative or "not recorded"),
                        ("Destroy by", long_date(data.destroy_by) if data.destroy_by else "not set")]))
    story += heading("Data covered", 2)
    story.append(text("All data received under the agreement above, in every copy and medium, from:"))
    story += [text(f"• {a}") for a in data.agencies] or [text("(no agencies recorded)")]
    if data.files:
        story.append(text("Files known to the Data Integration Hub:"))
        story += [text(f"• {f}", "small") for f in data.files]
    story += heading("Certification", 2)
    story.append(text("I certify that all data listed above, including every copy, extract and derived file that "
                      "could identify a person, has been destroyed by a method that prevents recovery, and that "
                      "no data user kept a copy. The method of destruction was:"))
    story.append(Spacer(1, 30))
    story.append(signature_block(["Authorized Representative (name and signature)", "Witness (name and signature)"]))
    if data.on_file:
        story += heading("Certificates already on file", 2)
        story.append(table([Column("Kind", 2), Column("Destroyed", 1.3), Column("Certified by", 2),
                            Column("Received", 1.3)],
                           [[c.kind, long_date(c.destroyed_on), c.certified_by, long_date(c.received_on)]
                            for c in data.on_file]))
    story.append(Spacer(1, 10))
    story.append(text("Return the signed certificate to the Operating Group (OPM). Keep a copy with the "
                      "agreement.", "small"))
    return build_pdf(out, info, story)
