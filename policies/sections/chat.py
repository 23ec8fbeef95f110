"""The policy's ``chat`` section: who may send messages, and who may be written to privately."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..errors import FieldError
from .base import Section

__all__ = ["Chat", "ChatAllowed", "ChatPrivate"]

ChatAllowed = Literal["nobody", "host_only", "everyone"]
ChatPrivate = Literal["off", "hosts", "everyone"]


class Chat(Section):
    allowed: ChatAllowed = Field(
        default="everyone",
        description="Who may send chat messages: `nobody`, `host_only`, or `everyone` admitted.",
    )
    private: ChatPrivate = Field(
        default="hosts",
        description=(
            "Who may be written to privately (a message only its recipient sees), as Zoom's "
            '"participants can chat with": `off` (no private messages, hosts included), '
            "`hosts` (participants write privately to the host and co-hosts only; hosts and "
            "co-hosts to anyone), or `everyone` (anyone admitted to anyone admitted). Who may "
            "send at all is still `allowed`; people waiting can never be written to."
        ),
    )

    @model_validator(mode="after")
    def _check(self) -> Chat:
        if not self.explicitly_set("private") or self.private == "off":
            return self
        if self.allowed == "nobody":
            raise FieldError(
                "private",
                f"private is {self.private!r} but chat.allowed is 'nobody', so nobody may "
                "send any message; set private to 'off' or remove it",
                key="private_chat_without_chat",
                private=self.private,
            )
        if self.allowed == "host_only" and self.private == "everyone":
            raise FieldError(
                "private",
                "private 'everyone' would let participants write to each other, but "
                "chat.allowed 'host_only' lets only hosts and co-hosts send; "
                "set private to 'hosts' (hosts write to anyone) or 'off'",
                key="private_to_everyone_in_host_only_chat",
            )
        return self
