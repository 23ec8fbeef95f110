"""meetwarden's policy language and decision engine. Pure: no I/O, no clock, no asyncio."""
