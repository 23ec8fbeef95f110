"""`meetwarden serve` with the media plane of an earlier meetwarden, for bench/media_layers.py.

Never used in production. ``--no-loss-repair`` and ``--no-bandwidth-control``
are ``MediaPlane``'s switches (as in bench/media_server.py); ``--no-simulcast``
makes every ``admitted`` message say ``simulcast: false``, so the web client
publishes its camera in one layer, as it did before the server took layers.
Together they are the server before issue 14.

    python bench/layer_server.py --port 0 --data-dir /tmp/d --rtc-address 127.0.0.1 \\
        --no-loss-repair --no-bandwidth-control --no-simulcast
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path
from typing import Any

import uvicorn

from meetwarden import protocol as wire
from meetwarden.server import app as app_module
from meetwarden.server.app import create_app
from meetwarden.server.config import Settings
from meetwarden.server.media import MediaPlane


def one_layer() -> None:
    """Every ``admitted`` says ``simulcast: false`` (the interpreter builds it by name)."""
    admitted = wire.Admitted

    class OneLayer(admitted):  # type: ignore[misc, valid-type]
        def __init__(self, **fields: Any) -> None:
            super().__init__(**{**fields, "simulcast": False})

    wire.Admitted = OneLayer  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rtc-address", action="append")
    parser.add_argument("--no-loss-repair", action="store_true")
    parser.add_argument("--no-bandwidth-control", action="store_true")
    parser.add_argument("--no-simulcast", action="store_true")
    args = parser.parse_args()
    app_module.MediaPlane = functools.partial(  # type: ignore[misc]
        MediaPlane,
        loss_repair=not args.no_loss_repair,
        bandwidth_control=not args.no_bandwidth_control,
    )
    if args.no_simulcast:
        one_layer()
    app = create_app(Settings(data_dir=args.data_dir, rtc_addresses=tuple(args.rtc_address or ())))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        log_level="info",
        ws_max_size=wire.MAX_MESSAGE_BYTES,
    )


if __name__ == "__main__":
    main()
