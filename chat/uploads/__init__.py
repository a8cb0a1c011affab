"""Files shared in a room (docs/protocol.md, "Files"): uploaded over HTTP, posted in a message.

- sniff.py: what a file is, from its first bytes (no I/O)
- names.py: the name it is shown and saved under (no I/O)
- files.py: the upload directory: keep, claim, find, remove, sweep
- place.py: which directory, from Settings, or why there is none
- posting.py: a message's `file`, claimed when it is posted, removed with it
- handlers.py: POST /upload and GET /uploads/ID/NAME
"""
