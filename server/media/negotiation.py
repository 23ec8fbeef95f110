"""What a publisher's offer may contain, checked before aiortc sees it.

The source of each track (microphone, camera, screen, screen audio) is fixed by
the server from ``sources`` (mid -> source) at the negotiation that introduces
the mid, never from a label or msid the client writes (security-bar test 47:
"classification by grant/negotiated source, not label"). A re-offer keeps every
mid's source; it may add a mid of a source not yet published, and it may not
change ICE credentials: aiortc has no ICE restart and would accept new
credentials silently and leave media dead (security-bar V5).

Every m-line must carry a usable DTLS fingerprint (RFC 8122 5; sha-256, -384
or -512, the digests aiortc checks, RFC 8827 6.5 requiring sha-256): without
one aiortc answered and then failed an ``assert`` in ``RTCDtlsTransport.start``,
leaving the connection neither connected nor failed; with an unusable one the
handshake can only fail. Either is refused here, before aiortc sees it.

ICE candidates must name a port of 1 to 65535 (a 16-bit UDP port, RFC 8839
5.1 and RFC 768): aioice takes any integer, and asyncio's datagram
``sendto`` raises OverflowError for a port out of range, which it treats as a
fatal write error: a loop error and the connection's socket closed
(CPython ``selector_events._SelectorDatagramTransport.sendto``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from aiortc import sdp

from .errors import MediaError
from .events import Source, kind_of, source_of
from .simulcast_sdp import ExtensionIds, read_simulcast

__all__ = [
    "MAX_MEDIA_SECTIONS",
    "MAX_SDP_BYTES",
    "OfferedTrack",
    "PublisherOffer",
    "check_answer",
    "read_offer",
]

MAX_SDP_BYTES = 64 * 1024
MAX_MEDIA_SECTIONS = 8
# The digests aiortc verifies (rtcdtlstransport.py X509_DIGEST_ALGORITHMS), by length.
_DIGEST_BYTES = {"sha-256": 32, "sha-384": 48, "sha-512": 64}
_HEX_PAIRS = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*")


@dataclass(frozen=True, slots=True)
class OfferedTrack:
    """One sending audio/video m-line of a publisher's offer and the source given to it."""

    mid: str
    kind: str
    source: Source
    ssrc: int | None
    rtx_ssrc: int | None = None
    """The retransmission stream's SSRC (``a=ssrc-group:FID``, RFC 5576 4.2; RFC 4588 5)."""
    rids: tuple[str, ...] = ()
    """Simulcast layers (``simulcast_sdp``): their SSRCs are learnt from the packets."""


@dataclass(frozen=True, slots=True)
class PublisherOffer:
    """A checked publisher offer: its sending tracks and its ICE credentials."""

    tracks: tuple[OfferedTrack, ...]
    ice_ufrag: str
    ice_pwd: str
    extension_ids: ExtensionIds | None = None
    """The header extension ids naming each packet's mid and rid, when simulcast is offered."""
    layers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(mid, rids) of every m-line offering simulcast, sending now or not: the answer
    accepts them all (a browser refuses an answer that drops an inactive m-line's)."""

    def by_mid(self) -> dict[str, OfferedTrack]:
        return {track.mid: track for track in self.tracks}


def _parse(text: str, what: str = "offer") -> sdp.SessionDescription:
    code = f"bad_{what}"
    if not isinstance(text, str) or not text.strip():
        raise MediaError(code, f"The {what} is empty; send an SDP {what}.")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SDP_BYTES:
        raise MediaError(code, f"The {what} is larger than {MAX_SDP_BYTES} bytes.")
    try:
        description = sdp.SessionDescription.parse(text)
    except Exception as exc:  # V4: aiortc's parser raises many types
        raise MediaError(code, f"The {what} is not a valid SDP description.") from exc
    for media in description.media:
        for candidate in media.ice_candidates:
            if not 0 < candidate.port < 65536:
                raise MediaError(code, "ICE candidate ports are 1 to 65535.")
        _check_fingerprints(media, code)
    return description


def _check_fingerprints(media: sdp.MediaDescription, code: str) -> None:
    """At least one sha-2 fingerprint, and every sha-2 fingerprint a digest's length.

    aiortc requires every fingerprint of an algorithm it knows to match the
    certificate (rtcdtlstransport.py ``_validate_peer_identity``): one malformed
    among good ones fails the handshake as surely as none at all.
    """
    usable = 0
    for fingerprint in media.dtls.fingerprints if media.dtls is not None else ():
        length = _DIGEST_BYTES.get(fingerprint.algorithm.lower())
        if length is None:
            continue  # sha-1, md5: aiortc ignores them, so they count for nothing
        value = fingerprint.value
        if len(value) != 3 * length - 1 or not _HEX_PAIRS.fullmatch(value):
            raise MediaError(
                code,
                f"The a=fingerprint:{fingerprint.algorithm} is not a {length}-byte digest "
                "written as hex pairs separated by colons.",
            )
        usable += 1
    if not usable:
        raise MediaError(
            code,
            "Every m-line needs the certificate's a=fingerprint "
            "(sha-256, sha-384 or sha-512) for the DTLS handshake.",
        )


def check_answer(answer_sdp: str) -> None:
    """Refuse a subscriber's answer that aiortc should not see (size, syntax, candidates)."""
    _parse(answer_sdp, "answer")


def _ice_credentials(description: sdp.SessionDescription) -> tuple[str, str]:
    credentials = set()
    for media in description.media:
        ice = media.ice
        if ice is None or not ice.usernameFragment or not ice.password:
            raise MediaError("bad_offer", "Every m-line needs ice-ufrag and ice-pwd.")
        credentials.add((ice.usernameFragment, ice.password))
    if len(credentials) != 1:
        raise MediaError("bad_offer", "All m-lines must share one set of ICE credentials.")
    return credentials.pop()


def _primary_ssrc(media: sdp.MediaDescription) -> int | None:
    for group in media.ssrc_group:
        if group.semantic == "FID" and group.items:
            return int(group.items[0])
    return int(media.ssrc[0].ssrc) if media.ssrc else None


def _rtx_ssrc(media: sdp.MediaDescription) -> int | None:
    for group in media.ssrc_group:
        if group.semantic == "FID" and len(group.items) >= 2 and group.items[1] != group.items[0]:
            return int(group.items[1])
    return None


def _bundle_only_mids(offer_sdp: str) -> set[str]:
    """Mids of m-lines marked ``a=bundle-only`` (RFC 8843 6): aiortc's parser drops the mark.

    Firefox offers every bundled m-line after the first with port 0 and this
    mark: such an m-line is live, carried on the bundle's transport; port 0
    without it means a stopped m-line.
    """
    found: set[str] = set()
    mid: str | None = None
    marked = False
    for line in [*offer_sdp.splitlines(), "m="]:
        line = line.strip()
        if line.startswith("m="):
            if marked and mid is not None:
                found.add(mid)
            mid, marked = None, False
        elif line.startswith("a=mid:"):
            mid = line[len("a=mid:") :]
        elif line == "a=bundle-only":
            marked = True
    return found


def read_offer(
    offer_sdp: str,
    sources: Mapping[str, Source],
    previous: PublisherOffer | None,
) -> PublisherOffer:
    """Check a publisher's (re-)offer against the sources the server fixed.

    Raises MediaError (with a stable code) when the offer is refused.
    """
    description = _parse(offer_sdp)
    if not description.media:
        raise MediaError("bad_offer", "The offer has no m-lines.")
    if len(description.media) > MAX_MEDIA_SECTIONS:
        raise MediaError("bad_offer", f"The offer has more than {MAX_MEDIA_SECTIONS} m-lines.")
    ufrag, pwd = _ice_credentials(description)
    if previous is not None and (ufrag, pwd) != (previous.ice_ufrag, previous.ice_pwd):
        raise MediaError(
            "ice_restart_unsupported",
            "ICE restart is not supported: close this connection and reconnect.",
        )
    bundle = next((g for g in description.group if g.semantic == "BUNDLE"), None)
    mids = [media.rtp.muxId for media in description.media]
    if any(not mid for mid in mids) or len(set(mids)) != len(mids):
        raise MediaError("bad_offer", "Every m-line needs its own a=mid.")
    if bundle is None or set(bundle.items) != set(mids):
        raise MediaError("bad_offer", "All m-lines must be in one BUNDLE group.")

    bundle_only = _bundle_only_mids(offer_sdp)
    layers, extension_ids = read_simulcast(offer_sdp)
    earlier = previous.by_mid() if previous is not None else {}
    tracks: list[OfferedTrack] = []
    for media in description.media:
        mid = media.rtp.muxId
        if media.kind not in ("audio", "video"):
            continue  # a data channel: carries no media, needs no source
        stopped = media.port == 0 and mid not in bundle_only
        if stopped or media.direction not in ("sendonly", "sendrecv"):
            continue  # a stopped or receive-only m-line publishes nothing
        source = sources.get(mid)
        if source is None:
            raise MediaError(
                "unknown_track", f"m-line {mid!r} sends media the server did not ask for."
            )
        source = source_of(source)
        before = earlier.get(mid)
        if before is not None and before.source != source:
            raise MediaError(
                "source_changed",
                f"m-line {mid!r} was published as {before.source}; it cannot become {source}.",
            )
        if media.kind != kind_of(source):
            raise MediaError(
                "kind_mismatch",
                f"{source} must be {kind_of(source)}, m-line {mid!r} is {media.kind}.",
            )
        rids = layers.get(mid, ())
        if before is not None and before.rids != rids:
            raise MediaError("bad_offer", f"m-line {mid!r} cannot change its simulcast layers.")
        if rids:  # the layers' SSRCs are bound from their packets, never from a=ssrc
            tracks.append(OfferedTrack(mid, media.kind, source, None, None, rids))
            continue
        tracks.append(OfferedTrack(mid, media.kind, source, _primary_ssrc(media), _rtx_ssrc(media)))

    published = [track.source for track in tracks]
    for source in set(published):
        if published.count(source) > 1:
            raise MediaError("duplicate_source", f"Only one {source} track may be published.")
    return PublisherOffer(tuple(tracks), ufrag, pwd, extension_ids, tuple(layers.items()))
