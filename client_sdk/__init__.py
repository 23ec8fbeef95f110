"""The meetwarden Python SDK: bots join meetings, hosts run them.

    from meetwarden.client_sdk import HostAPI, MeetingClient

See docs/bots.md for a guide and a runnable example bot.
"""

from .client import MeetingClient, parse_join_link
from .errors import (
    ApiError,
    ConnectionClosedError,
    DismissedError,
    InvalidArgumentError,
    JoinRefusedError,
    MeetwardenError,
    MeetwardenTimeoutError,
    PolicyRefusedError,
    ProtocolError,
    ServerUnreachableError,
)
from .events import (
    Admitted,
    BackToWaitingRoom,
    ChatReceived,
    Denied,
    ErrorReceived,
    Event,
    FileShared,
    GrantReceived,
    HandRaised,
    MeetingChanged,
    MeetingEnded,
    Muted,
    NoticeReceived,
    PolicyChanged,
    Removed,
    RosterChanged,
    SelfChanged,
    Unmuted,
    Waiting,
    WaitingListChanged,
)
from .files import DownloadedFile, SharedFile
from .ice import IceOptions
from .rest import CreatedMeeting, HostAPI, Invite, MeetingStatus

__all__ = [
    "Admitted",
    "ApiError",
    "BackToWaitingRoom",
    "ChatReceived",
    "ConnectionClosedError",
    "CreatedMeeting",
    "Denied",
    "DismissedError",
    "DownloadedFile",
    "ErrorReceived",
    "Event",
    "FileShared",
    "GrantReceived",
    "HandRaised",
    "HostAPI",
    "IceOptions",
    "InvalidArgumentError",
    "Invite",
    "JoinRefusedError",
    "MeetingChanged",
    "MeetingClient",
    "MeetingEnded",
    "MeetingStatus",
    "MeetwardenError",
    "MeetwardenTimeoutError",
    "Muted",
    "NoticeReceived",
    "PolicyChanged",
    "PolicyRefusedError",
    "ProtocolError",
    "Removed",
    "RosterChanged",
    "SelfChanged",
    "ServerUnreachableError",
    "SharedFile",
    "Unmuted",
    "Waiting",
    "WaitingListChanged",
    "parse_join_link",
]
