"""The domain model. Importing this package registers every table on ``Base.metadata``."""
from importlib.util import find_spec

from .agency import Agency, AgencyContact, AgencyRole, AgencyRoleAssignment, AgencyStatus, ContactKind
from .agreement import DataSharingAgreement, DsaAmendment, DsaExhibit, DsaParty, ExhibitKind, PartyKind
from .approval import AgencyApproval, Decision
from .audit import AuditEvent
from .base import Base, UTCDateTime, utcnow
from .calendar import Holiday
from .communication import Channel, Communication, Direction
from .document import Document, DocumentContent
from .finance import (
    Actual,
    AgencyContribution,
    Budget,
    BudgetLine,
    BudgetStatus,
    FeeRule,
    FeeRuleKind,
    FeeSchedule,
    FundDistribution,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Receipt,
)
from .matchlog import CertificateKind, DestructionCertificate, MatchLogEntry
from .meeting import Attendance, Board, BoardMember, Meeting, Motion, MotionKind, Vote, VoteChoice
from .recipient import DataRecipient, RecipientType, RecipientUser
from .request import DataElement, DataRequest, RequestedAgency, RequestState, RequestStateChange, SubmissionType
from .request import request_users
from .user import Role, User

# The exchange engineer's tables (identity keys, peers, package log), when that module exists.
if find_spec(f"{__name__}.exchange") is not None:
    from . import exchange  # noqa: F401
# The hub workspace's tables (registered files, runs, review decisions), when that module exists.
if find_spec(f"{__name__}.hub") is not None:
    from . import hub  # noqa: F401

__all__ = [
    "Actual", "Agency", "AgencyApproval", "AgencyContact", "AgencyContribution", "AgencyRole",
    "AgencyRoleAssignment", "AgencyStatus", "Attendance", "AuditEvent", "Base", "Board", "BoardMember", "Budget",
    "BudgetLine", "BudgetStatus", "CertificateKind", "Channel", "Communication", "ContactKind", "DataElement",
    "DataRecipient", "DataRequest", "DataSharingAgreement", "Decision", "DestructionCertificate", "Direction",
    "Document", "DocumentContent", "DsaAmendment", "DsaExhibit", "DsaParty", "ExhibitKind", "FeeRule",
    "FeeRuleKind", "FeeSchedule", "FundDistribution", "Holiday", "Invoice", "InvoiceLine", "InvoiceStatus",
    "MatchLogEntry", "Meeting", "Motion", "MotionKind", "PartyKind", "Receipt", "RecipientType", "RecipientUser",
    "RequestState", "RequestStateChange", "RequestedAgency", "Role", "SubmissionType", "UTCDateTime", "User",
    "Vote", "VoteChoice", "request_users", "utcnow",
]
