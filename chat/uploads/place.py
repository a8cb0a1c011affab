"""Where this process keeps uploads, from Settings: a directory, or the reason it has none."""

from pathlib import Path

from chat.config import Settings
from chat.uploads.files import Files

NO_SHARED_DIRECTORY = ("This node of a cluster takes no uploads: start every node with the "
                       "same --upload-dir (a shared disk), so that each can serve every file.")
OFF = "Uploads are off on this server (--max-upload 0)."


def make_files(settings: Settings) -> Files | None:
    """Return the upload directory the settings ask for; None in a cluster given none.

    By default it is `uploads/` beside the database file, or a temporary
    directory, removed at shutdown, when the database is ":memory:". A
    cluster's nodes must share one, so there is no default for them.
    """
    if settings.upload_dir is not None:
        return Files(Path(settings.upload_dir))
    if settings.redis:
        return None
    if str(settings.db) == ":memory:":
        return Files(None)
    return Files(Path(settings.db).resolve().parent / "uploads")


def why_off(settings: Settings, files: Files | None) -> str | None:
    """Return why uploads are refused `no_uploads` here, or None if they are taken."""
    if settings.max_upload == 0:
        return OFF
    if files is None:
        return NO_SHARED_DIRECTORY
    return None
