"""File sharing: what a file is, its display name, its storage and its malware scan.

- ``sniff``: the type judged by content, and whether the name or declared type lies;
- ``filenames``: a declared name made safe to display (never used to store a file);
- ``nametypes``: the type a name or declared Content-Type claims, from our own table;
- ``storage``: uploads streamed to disk under server-generated ids, with limits;
- ``scanner``: a ClamAV daemon asked over zINSTREAM; never "clean" when unsure.

The modules are imported one by one (``meetwarden.server.files.sniff``), so
that code needing only storage does not load libmagic.
"""
