"""``desk.documents``: files attached to requests, kept (encrypted) inside the store with their SHA-256."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.models import DataRequest, Document, DocumentContent

from .audit_chain import record_of
from .base import Checks, Kind, Service, view_of
from .errors import NotFound, ServiceError, ValidationFailed

MAX_DOCUMENT_BYTES = 200 * 1024 * 1024  # SQLite blobs top out near 1 GB; signed PDFs are far smaller


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    id: int
    request_id: int | None
    name: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


def clean_file_name(name: str) -> str:
    """The last path component, without control characters; never empty."""
    base = re.split(r"[\\/]", name.strip())[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    return base[:255] or "document"


class DocumentService(Service):

    def attach(self, request_id: int | None, name: str, content: bytes, *,
               media_type: str = "application/octet-stream") -> int:
        """Store a file (bytes) with a request; returns the document id. Refuses empty or over-large files."""
        checks = Checks()
        checks.that(isinstance(content, (bytes, bytearray)), "content", "must be bytes")
        checks.that(len(content) > 0, "content", "is empty")
        checks.that(len(content) <= MAX_DOCUMENT_BYTES, "content",
                    f"is {len(content) / 2**20:.0f} MB; at most {MAX_DOCUMENT_BYTES // 2**20} MB can be stored")
        media_type = checks.text("media_type", media_type, max_len=127)
        checks.done()
        with self._write("attach documents", [Kind.DOCUMENTS]) as uow:
            if request_id is not None:
                uow.get(DataRequest, request_id, "request")
            doc = Document(request_id=request_id, name=clean_file_name(name), media_type=media_type,
                           size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                           uploaded_by=self.actor.username)
            uow.created(doc, action="attach")
            uow.session.add(DocumentContent(document_id=doc.id, content=bytes(content)))
            return doc.id

    def list(self, request_id: int | None = None) -> list[DocumentInfo]:
        """Document listings (never the bytes), newest first."""
        with self._read() as s:
            stmt = select(Document).order_by(Document.uploaded_at.desc(), Document.id.desc())
            if request_id is not None:
                stmt = stmt.where(Document.request_id == request_id)
            return [view_of(DocumentInfo, d) for d in s.scalars(stmt)]

    def content(self, document_id: int) -> bytes:
        """The document's bytes, checked against the SHA-256 recorded at upload (raises if damaged)."""
        with self._read() as s:
            doc = s.get(Document, document_id)
            blob = s.get(DocumentContent, document_id)
            if doc is None or blob is None:
                raise NotFound(f"There is no document with id {document_id}.")
            if hashlib.sha256(blob.content).hexdigest() != doc.sha256:
                raise ServiceError(f"The stored copy of {doc.name} does not match its checksum; restore from a backup.")
            return blob.content

    def rename(self, document_id: int, name: str) -> None:
        if not name.strip():
            raise ValidationFailed({"name": "is required"})
        with self._write("rename documents", [Kind.DOCUMENTS]) as uow:
            doc = uow.get(Document, document_id, "document")
            before = record_of(doc)
            doc.name = clean_file_name(name)
            uow.updated(doc, before)
