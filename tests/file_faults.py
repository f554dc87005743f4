"""Files the system refuses to read, made for the tests without chmod (which would not stop root)."""

from pathlib import Path


def unreadable_file(tmp_path: Path, monkeypatch) -> Path:
    """A file whose opening raises PermissionError (EACCES), as a locked file's does."""
    path = tmp_path / "locked.txt"
    path.write_text("text")
    real_open = Path.open

    def deny(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    return path
