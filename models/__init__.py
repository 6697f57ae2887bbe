"""SQLAlchemy models. Importing this package registers every table on `Base.metadata`."""

from models.api_token import ApiToken
from models.area import Area, AreaKind, OwnerStatus
from models.base import Base
from models.directory_version import DirectoryVersion
from models.installation import Installation, OAuthState
from models.job import Job, JobStatus
from models.slack_event import SlackDelivery

__all__ = [
    "ApiToken",
    "Area",
    "AreaKind",
    "Base",
    "DirectoryVersion",
    "Installation",
    "Job",
    "JobStatus",
    "OAuthState",
    "OwnerStatus",
    "SlackDelivery",
]
