"""A model folder's content hash (info["checkpoint_hash"]): what a take's metadata records to say
which weights made it.

sha256 over the sorted relative paths, sizes and bytes of the weight files (.safetensors), JSONs and
tokenizer vocabularies. Bounded: of a file over 2 × CHUNK only its first and last CHUNK bytes are
read (a safetensors header, with every tensor's name, shape and offsets, sits at the start), so a
60 GB folder hashes in well under a second; the size and path of every file still count. Cached in
memory per folder and (path, size, mtime) listing, so a model switch back is free.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SUFFIXES = {".safetensors", ".json", ".model", ".txt"}
CHUNK = 4 * 1024 * 1024
_cache: dict[tuple, str] = {}


def _listing(folder: Path) -> list[tuple[str, int, int, Path]]:
    out = []
    for p in folder.rglob("*"):
        if p.is_file() and p.suffix in SUFFIXES:
            st = p.stat()
            out.append((p.relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns, p))
    return sorted(out)


def folder_hash(folder: str | Path) -> str:
    folder = Path(folder).resolve()
    listing = _listing(folder)
    key = (str(folder), tuple((rel, size, mtime) for rel, size, mtime, _ in listing))
    if key in _cache:
        return _cache[key]
    h = hashlib.sha256()
    for rel, size, _mtime, path in listing:
        h.update(rel.encode("utf-8") + b"\0" + str(size).encode() + b"\0")
        with open(path, "rb") as f:
            if size <= 2 * CHUNK:
                h.update(f.read())
            else:
                h.update(f.read(CHUNK))
                f.seek(size - CHUNK)
                h.update(f.read(CHUNK))
    digest = h.hexdigest()
    _cache[key] = digest
    return digest
