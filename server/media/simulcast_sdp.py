"""Simulcast in the SDP: reading a publisher's ``a=rid``/``a=simulcast`` and answering them.

A browser that publishes a camera in layers offers, on its video m-line,
``a=rid:<id> send`` per layer (RFC 8851), ``a=simulcast:send q;h;f`` (RFC
8853) and the header extensions that name each packet's stream:
``sdes:mid`` (RFC 8843 15.2), ``sdes:rtp-stream-id`` and
``sdes:repaired-rtp-stream-id`` (RFC 8852). The layers' SSRCs are not in the
SDP: the receiver learns them from those extensions (``ssrc_binding``).

aiortc 1.16 reads none of this (its ``sdp.py`` has no rid or simulcast), so
its answer would refuse simulcast and the browser would send one layer. The
offer is read here and the answer aiortc produced is completed with what
accepts it: ``a=rid:<id> recv`` per layer, ``a=simulcast:recv`` with the same
order, and the two stream-id extmap lines with the offer's ids (RFC 8285 5:
the answer uses the offer's ids). Malformed lines are refused with
``bad_offer`` and a sentence, as every other offer check is; at most
``MAX_LAYERS`` layers, ids of at most 16 characters (RFC 8851 10's rid-id
syntax: letters, digits, ``-`` and ``_``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import MediaError

__all__ = [
    "MAX_LAYERS",
    "MID_URI",
    "RID_URI",
    "RRID_URI",
    "ExtensionIds",
    "SimulcastSection",
    "accept_simulcast",
    "read_simulcast",
]

MAX_LAYERS = 3
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
RRID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
_RID = re.compile(r"[A-Za-z0-9_-]{1,16}")
_EXTMAP = re.compile(r"a=extmap:(\d{1,3})(?:/\w+)?\s+(\S+)")


@dataclass(frozen=True, slots=True)
class ExtensionIds:
    """The one-byte/two-byte header extension ids (RFC 8285) that name a packet's stream."""

    mid: int
    rid: int
    rrid: int | None


@dataclass(slots=True)
class SimulcastSection:
    """What one m-section of an offer says about rid simulcast."""

    mid: str | None = None
    kind: str = ""
    rids: dict[str, str] = field(default_factory=dict)  # rid -> direction
    simulcast: list[str] = field(default_factory=list)  # "a=simulcast:" values
    extmaps: dict[str, int] = field(default_factory=dict)  # uri -> id

    def layers(self) -> tuple[str, ...]:
        """The send layers in the offer's order (``simulcast:send``), or () without simulcast."""
        bad = f"m-line {self.mid!r}: "
        if not self.simulcast:
            if self.rids:
                raise MediaError("bad_offer", bad + "a=rid needs an a=simulcast:send line.")
            return ()
        if self.kind != "video":
            raise MediaError("bad_offer", bad + "only video may be sent as simulcast layers.")
        if len(self.simulcast) > 1:
            raise MediaError("bad_offer", bad + "give one a=simulcast line.")
        words = self.simulcast[0].split()
        if len(words) != 2 or words[0] != "send":
            raise MediaError(
                "bad_offer", bad + "write a=simulcast:send <rid>;<rid>; the server sends none."
            )
        layers: list[str] = []
        for stream in words[1].split(";"):
            rid = stream.removeprefix("~")  # "~": the layer starts paused (RFC 8853 5.1)
            if "," in rid:
                raise MediaError("bad_offer", bad + "give one rid per simulcast layer.")
            if self.rids.get(rid) != "send":
                raise MediaError("bad_offer", bad + f"layer {rid!r} needs an a=rid:{rid} send.")
            if rid in layers:
                raise MediaError("bad_offer", bad + f"layer {rid!r} is listed twice.")
            layers.append(rid)
        if len(layers) > MAX_LAYERS:
            raise MediaError("bad_offer", bad + f"at most {MAX_LAYERS} simulcast layers.")
        if set(self.rids) != set(layers):
            raise MediaError("bad_offer", bad + "every a=rid must be a simulcast layer.")
        if MID_URI not in self.extmaps or RID_URI not in self.extmaps:
            raise MediaError(
                "bad_offer", bad + "simulcast needs the sdes:mid and sdes:rtp-stream-id extmaps."
            )
        return tuple(layers)


def _sections(offer_sdp: str) -> list[SimulcastSection]:
    sections: list[SimulcastSection] = []
    for raw in offer_sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            sections.append(SimulcastSection(kind=line[2:].split(" ", 1)[0]))
        elif not sections:
            continue
        elif line.startswith("a=mid:"):
            sections[-1].mid = line[len("a=mid:") :]
        elif line.startswith("a=rid:"):
            words = line[len("a=rid:") :].split()
            if len(words) < 2 or not _RID.fullmatch(words[0]) or words[1] not in ("send", "recv"):
                raise MediaError(
                    "bad_offer", "Write a=rid:<id> send, the id 1 to 16 letters, digits, - or _."
                )
            if words[0] in sections[-1].rids:
                raise MediaError("bad_offer", f"a=rid:{words[0]} is declared twice.")
            sections[-1].rids[words[0]] = words[1]
        elif line.startswith("a=simulcast:"):
            sections[-1].simulcast.append(line[len("a=simulcast:") :])
        elif line.startswith("a=extmap:"):
            match = _EXTMAP.fullmatch(line)
            if match is None or not 1 <= int(match[1]) <= 255:
                raise MediaError("bad_offer", "Write a=extmap:<id 1-255> <uri>.")
            sections[-1].extmaps[match[2]] = int(match[1])
    return sections


def read_simulcast(offer_sdp: str) -> tuple[dict[str, tuple[str, ...]], ExtensionIds | None]:
    """Each simulcast mid's layers (rids, in the offer's order) and the extension ids.

    Raises MediaError("bad_offer") on a malformed or unsupported line. The ids
    are one set for the whole bundle: the server parses every packet of the
    transport with them, so two m-lines may not give them different ids.
    """
    layers: dict[str, tuple[str, ...]] = {}
    ids: set[tuple[int, int, int | None]] = set()
    for section in _sections(offer_sdp):
        rids = section.layers()
        if not rids or section.mid is None:
            continue
        layers[section.mid] = rids
        maps = section.extmaps
        ids.add((maps[MID_URI], maps[RID_URI], maps.get(RRID_URI)))
    if len(ids) > 1:
        raise MediaError("bad_offer", "Simulcast m-lines must use the same extmap ids.")
    return layers, (ExtensionIds(*ids.pop()) if ids else None)


def accept_simulcast(
    answer_sdp: str, layers: dict[str, tuple[str, ...]], ids: ExtensionIds | None
) -> str:
    """The answer aiortc made, accepting each simulcast mid's layers (RFC 8853 5.3)."""
    if not layers or ids is None:
        return answer_sdp
    wanted = [(MID_URI, ids.mid), (RID_URI, ids.rid)]
    if ids.rrid is not None:
        wanted.append((RRID_URI, ids.rrid))
    out: list[str] = []
    section: list[str] = []

    def flush() -> None:
        mid = next((line[6:] for line in section if line.startswith("a=mid:")), None)
        if mid in layers:
            present = {line.split()[-1] for line in section if line.startswith("a=extmap:")}
            added = [f"a=extmap:{i} {uri}" for uri, i in wanted if uri not in present]
            added += [f"a=rid:{rid} recv" for rid in layers[mid]]
            added.append("a=simulcast:recv " + ";".join(layers[mid]))
            at = next((n for n, line in enumerate(section) if line.startswith("a=rtpmap:")), None)
            at = len(section) if at is None else at
            section[at:at] = added
        out.extend(section)
        section.clear()

    for line in answer_sdp.splitlines():
        if line.startswith("m="):
            flush()
        section.append(line)
    flush()
    return "\r\n".join(out) + "\r\n"
