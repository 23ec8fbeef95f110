"""A note-taking bot for meetwarden (the example of docs/bots.md).

It joins a meeting, waits in the waiting room until a host admits it, raises
its hand to say it is there, posts a chat message, keeps every chat message
as a note, and leaves when the host ends the meeting, printing the notes.

    python docs/examples/notetaker_bot.py https://meet.example.org/m/MEETING_ID
    python docs/examples/notetaker_bot.py MEETING_ID --server http://127.0.0.1:8000 \\
        --name "Note Taker" --password "correct horse"

Exit status: 0 when the meeting ended, 2 when the bot was refused, denied or
removed (the reason code and the policy rule are printed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from meetwarden.client_sdk import (
    ChatReceived,
    DismissedError,
    JoinRefusedError,
    MeetingClient,
    MeetingEnded,
    NoticeReceived,
    PolicyRefusedError,
    Removed,
    RosterChanged,
)


async def take_notes(
    link: str,
    *,
    name: str = "Note Taker",
    password: str | None = None,
    invite: str | None = None,
    server: str | None = None,
) -> list[str]:
    """Runs the bot until the meeting ends; the notes (one line per chat message)."""
    client = await MeetingClient.connect(
        link, name=name, password=password, invite=invite, server=server
    )
    async with client:
        if client.status == "waiting":
            print("In the waiting room: a host will let me in.", flush=True)
            await client.wait_admitted(timeout=3600)
        print(f"Admitted as {client.participant_id}.", flush=True)

        await client.raise_hand()  # hosts see a HandRaised event
        try:
            await client.chat("Hello, I am taking notes: the chat goes into them.")
        except PolicyRefusedError as refusal:  # e.g. chat_host_only, rule /chat/allowed
            print(f"Cannot chat here: {refusal.message} [{refusal.reason} {refusal.rule}]")

        notes: list[str] = []
        # events() ends when the connection closes: after MeetingEnded or Removed.
        async for event in client.events():
            match event:
                case ChatReceived(message=chat) if chat.sender != client.participant_id:
                    notes.append(f"{chat.sender_name}: {chat.text}")
                case RosterChanged(roster=roster):
                    print(f"{len(roster)} people in the meeting.", flush=True)
                case NoticeReceived(message=notice):
                    print(f"Notice ({notice.topic}): {notice.text}", flush=True)
                case MeetingEnded(message=ended):
                    print(f"The meeting ended: {ended.message}", flush=True)
                case Removed(message=removed):
                    raise DismissedError(removed.why, removed.reason, removed.rule, removed.message)
        return notes


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line. A meeting id may start with "-" (ids are URL-safe base64), which
    argparse takes for an option it does not know: a lone such word is the link."""
    parser = argparse.ArgumentParser(description="A note-taking bot for a meetwarden meeting.")
    parser.add_argument("link", nargs="?", help="the join link, or a meeting id with --server")
    parser.add_argument("--server", help="the server's URL when LINK is a meeting id")
    parser.add_argument("--name", default="Note Taker", help="the name people see")
    parser.add_argument("--password", help="the meeting's password, if it has one")
    parser.add_argument("--invite", help="an invite token (a link with #invite= carries one)")
    arguments, unknown = parser.parse_known_args(argv)
    if arguments.link is None and len(unknown) == 1 and not unknown[0].startswith("--"):
        arguments.link, unknown = unknown[0], []
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if arguments.link is None:
        parser.error("the join link (or a meeting id with --server) is required")
    return arguments


def main() -> int:
    arguments = parse()
    try:
        notes = asyncio.run(
            take_notes(
                arguments.link,
                name=arguments.name,
                password=arguments.password,
                invite=arguments.invite,
                server=arguments.server,
            )
        )
    except JoinRefusedError as refused:
        print(f"Could not join: {refused.message} [{refused.reason} {refused.rule}]")
        return 2
    except DismissedError as dismissed:
        print(f"Out of the meeting ({dismissed.why}): {dismissed.message} [{dismissed.reason}]")
        return 2
    print(f"Notes ({len(notes)}):")
    for note in notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
