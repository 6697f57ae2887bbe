"""SQLAlchemy models. Importing this package registers every table on `Base.metadata`."""

from models.api_token import ApiToken
from models.area import Area, AreaKind, OwnerStatus
from models.base import Base
from models.directory_version import DirectoryVersion
from models.feedback import (
    Feedback,
    FeedbackDraft,
    FeedbackKind,
    FeedbackReporter,
    FeedbackSource,
    FeedbackStatus,
    Importance,
    Theme,
    ThemeFollower,
    ThemeNotification,
    ThemeStatus,
)
from models.installation import Installation, OAuthState
from models.integration import LinkState, Provider, ThemeLink, WebhookDelivery
from models.job import Job, JobStatus
from models.launch import (
    DecisionStatus,
    FunctionStatus,
    GoNoGoDecision,
    GoNoGoVote,
    Launch,
    LaunchFunction,
    LaunchStatus,
    RunStatus,
    RunTrigger,
    StandupPerson,
    StandupPrompt,
    StandupResponse,
    StandupRun,
    Vote,
)
from models.release import (
    PostState,
    Release,
    ReleaseEvent,
    ReleasePost,
    ReleaseStatus,
    ReleaseVariant,
    release_themes,
)
from models.slack_event import SlackDelivery

__all__ = [
    "ApiToken",
    "Area",
    "AreaKind",
    "Base",
    "DecisionStatus",
    "DirectoryVersion",
    "Feedback",
    "FeedbackDraft",
    "FeedbackKind",
    "FeedbackReporter",
    "FeedbackSource",
    "FeedbackStatus",
    "FunctionStatus",
    "GoNoGoDecision",
    "GoNoGoVote",
    "Importance",
    "Installation",
    "Job",
    "JobStatus",
    "Launch",
    "LaunchFunction",
    "LaunchStatus",
    "LinkState",
    "OAuthState",
    "OwnerStatus",
    "PostState",
    "Provider",
    "RunStatus",
    "RunTrigger",
    "Release",
    "ReleaseEvent",
    "ReleasePost",
    "ReleaseStatus",
    "ReleaseVariant",
    "SlackDelivery",
    "StandupPerson",
    "StandupPrompt",
    "StandupResponse",
    "StandupRun",
    "Theme",
    "ThemeFollower",
    "ThemeLink",
    "ThemeNotification",
    "ThemeStatus",
    "Vote",
    "WebhookDelivery",
    "release_themes",
]
