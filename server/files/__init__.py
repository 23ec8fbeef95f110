"""File sharing: what a file is, its name, storage, malware scan, and the endpoints.

- ``sniff``: the type judged by content, and whether the name or declared type lies;
- ``filenames``: a declared name made safe to display (never used to store a file);
- ``nametypes``: the type a name or declared Content-Type claims, from our own table;
- ``storage``: uploads streamed to disk under server-generated ids, with limits;
- ``scanner``: a ClamAV daemon asked over zINSTREAM; never "clean" when unsure;
- ``tokens``: the short-lived file token, bound to one participant's live session;
- ``access``: who is calling, checked live; download permission; audit entries;
- ``sharing_state``: what the upload and download sides share;
- ``uploads``: an upload through the engine (before and after the bytes);
- ``downloads``: a shared file, for a participant admitted to its meeting now;
- ``sharing``: the endpoints' work put together, and deleting what is no longer shared;
- ``routes``: the HTTP endpoints, refusals as problem+json, safe download headers.

The modules are imported one by one (``meetwarden.server.files.sniff``), so
that code needing only storage does not load libmagic.
"""
