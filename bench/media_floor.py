"""The bare Python floor: an asyncio UDP relay that unprotects SRTP, rewrites the header
and protects once per sink (fan-out), as performance-research section 3.1 measured it.

A generator process blasts SRTP packets of ``--size`` bytes at the relay for
``--seconds``; the relay (this process, on asyncio or uvloop) forwards each to
``--fanout`` sinks. Prints the relay's CPU time per sent packet, in JSON.

    python bench/media_floor.py --loop asyncio --fanout 8 --seconds 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import socket
import struct
import time
from typing import Any

from pylibsrtp import Policy, Session

# AEAD_AES_256_GCM, what aiortc negotiates first: 32-byte key, 12-byte salt.
KEY = bytes(range(44))
PROFILE = Policy.SRTP_PROFILE_AEAD_AES_256_GCM


def _session(direction: int) -> Session:
    return Session(Policy(key=KEY, ssrc_type=direction, srtp_profile=PROFILE))


def _generate(port: int, seconds: float, size: int) -> None:
    session = _session(Policy.SSRC_ANY_OUTBOUND)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
        payload = b"\x00" * (size - 12 - 16)
        deadline = time.monotonic() + seconds
        sequence = 0
        while time.monotonic() < deadline:
            for _ in range(64):
                header = struct.pack("!BBHII", 0x80, 97, sequence & 0xFFFF, sequence * 3000, 1)
                packet = session.protect(header + payload)
                sequence += 1
                with contextlib.suppress(OSError):
                    out.sendto(packet, ("127.0.0.1", port))
            time.sleep(0.0005)  # pacing the generator: bursts of 64 packets


class Relay(asyncio.DatagramProtocol):
    def __init__(self, sinks: list[tuple[str, int]]) -> None:
        self.inbound = _session(Policy.SSRC_ANY_INBOUND)
        self.outbound = [(_session(Policy.SSRC_ANY_OUTBOUND), sink) for sink in sinks]
        self.transport: Any = None
        self.received = self.sent = 0

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            plain = self.inbound.unprotect(data)
        except Exception:
            return
        self.received += 1
        body = plain[12:]
        sequence, timestamp = struct.unpack_from("!HI", plain, 2)
        sendto = self.transport.sendto
        for index, (session, sink) in enumerate(self.outbound):
            header = struct.pack("!BBHII", 0x80, 100, sequence, timestamp, 1000 + index)
            sendto(session.protect(header + body), sink)
            self.sent += 1


async def measure(fanout: int, seconds: float, size: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    sinks = []
    sockets = []
    for _ in range(fanout):  # bound but never read: the kernel drops what overflows
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        sockets.append(sink)
        sinks.append(sink.getsockname())
    transport, relay = await loop.create_datagram_endpoint(
        lambda: Relay(sinks), local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    generator = multiprocessing.Process(target=_generate, args=(port, seconds + 1.0, size))
    generator.start()
    await asyncio.sleep(0.5)  # warm-up: the generator's start is not measured
    start, sent = os.times(), relay.sent
    await asyncio.sleep(seconds)
    end, sent = os.times(), relay.sent - sent
    generator.join()
    transport.close()
    for sink in sockets:
        sink.close()
    cpu = end.user + end.system - start.user - start.system
    return {"fanout": fanout, "sent": sent, "us_per_sent_packet": 1e6 * cpu / max(sent, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--fanout", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--size", type=int, default=1200)
    args = parser.parse_args()
    coroutine = measure(args.fanout, args.seconds, args.size)
    if args.loop == "uvloop":
        import uvloop

        result = uvloop.run(coroutine)
    else:
        result = asyncio.run(coroutine)
    print(json.dumps({"loop": args.loop, **result}), flush=True)


if __name__ == "__main__":
    main()
