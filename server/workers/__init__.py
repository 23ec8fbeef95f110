"""``meetwarden serve --workers N``: N server processes behind one address.

A front process (``front.py``) owns the public port. It reads the request line of
each new connection without consuming it (MSG_PEEK), finds the meeting the path
names (server/placement.py) and passes the connection's file descriptor to the
worker that holds that meeting (SCM_RIGHTS, ``handoff.py``). The worker adopts it
as if it had accepted it (``worker.py``): from then on the bytes flow between the
client and that worker only, so the front costs one peek per connection, not per
message. Media (ICE, UDP) goes to each worker's own ports.

``supervisor.py`` starts the workers (the first alone, as it migrates the database
and makes the first-account link), restarts one that dies in its own place, and
stops them all on SIGTERM or SIGINT.
"""
