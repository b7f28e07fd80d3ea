"""Why a recording's write failed, in the performer's words: the real cause, then what to do.

An `OSError`'s own text is the C library's (`File exists`, `Permission denied`), which names the
symptom, not the cause: a file sitting where the folder should be, a write-protected card, a
FAT32 stick at its 4 GB file limit. `cause()` reads the errno and the path to say which, so the
sentence on the HUD and in the log tells the performer what to fix.
"""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

MIN_FREE_BYTES = 64 * 2**20   # less free space than this at a take's start counts as a full disk
ELSEWHERE = "set another [record] folder in the setup"


def cause(e: OSError, folder: Path, name: str = "") -> tuple[str, str]:
    """(cause, remedy) of a failed write in `folder` (of file `name`), each a clause without a full stop.

    E.g. (`"/media/card is on a read-only disk"`, `"unlock or remount it, or set another [record]
    folder in the setup"`). Unknown errors give the system's own text as the cause.
    """
    code = e.errno
    if code == errno.ENOSPC:
        return f"the disk holding {folder} is full", f"free some space or {ELSEWHERE}"
    if code == errno.EDQUOT:
        return f"the disk quota for {folder} is used up", f"free some space or {ELSEWHERE}"
    if code == errno.EFBIG:
        return (f"{name or 'the file'} reached the largest file its disk allows (FAT32 stops at 4 GB)",
                "record to a disk formatted exFAT, NTFS or ext4")
    if code == errno.EROFS:
        return f"{folder} is on a read-only disk", f"unlock or remount it, or {ELSEWHERE}"
    if code in (errno.EEXIST, errno.ENOTDIR):
        blocker = _file_in_the_way(folder)
        if blocker is not None:
            return f"{blocker} is a file, not a folder", f"move that file away or {ELSEWHERE}"
    if code in (errno.EACCES, errno.EPERM):
        return f"{folder} is not writable for this user", f"make it writable or {ELSEWHERE}"
    if code == errno.ENOENT:
        return f"{folder} is gone (a disk unplugged?)", f"plug it back in or {ELSEWHERE}"
    if code == errno.EIO:
        return f"the disk holding {folder} failed to write (unplugged or damaged?)", ELSEWHERE
    return f"{e.strerror or e} in {folder}", ELSEWHERE


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest part of `folder`'s path that exists as something other than a folder."""
    for part in (folder, *folder.parents):
        if part.exists() or part.is_symlink():
            return None if part.is_dir() else part
    return None


def folder_problem(folder: Path, min_free: int = MIN_FREE_BYTES) -> str | None:
    """One sentence if a take cannot start in `folder` (made if missing), else None.

    Tries what the take will do: make the folder, create a file in it, and look at the free space,
    so a read-only disk, a file in the way or a full disk is named as such before any file is made.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():  # mkdir(exist_ok) accepts a symlink to a file on some systems
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(folder))
        with tempfile.TemporaryFile(dir=folder):
            pass
        if shutil.disk_usage(folder).free < min_free:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder))
    except OSError as e:
        return could_not_start(e, folder)
    return None


def could_not_start(e: OSError, folder: Path) -> str:
    """The sentence for a take that could not begin in `folder`."""
    what, remedy = cause(e, folder)
    return f"Recording could not start: {what}; {remedy}."


def stopped(e: OSError, path: Path, seconds: float) -> str:
    """The sentence for a take whose file `path` failed after `seconds` of pictures."""
    what, remedy = cause(e, path.parent, path.name)
    return f"Recording stopped: {what}; the {seconds:.1f} s before are kept and playable; {remedy}."
