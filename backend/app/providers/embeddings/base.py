"""The embedding protocol: text in, L2-normalised vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt


class EmbeddingError(Exception):
    """An embedding call failed; ``transient`` says whether retrying later may succeed."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@runtime_checkable
class Embedder(Protocol):
    @property
    def model_id(self) -> str:
        """Stable id of the model (used in collection names), e.g. ``minilm-l6-v2-int8``."""
        ...

    @property
    def dimension(self) -> int: ...

    def count_tokens(self, text: str) -> int:
        """Fast token count, used by the chunker to size chunks."""
        ...

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    async def embed_query(self, text: str) -> list[float]: ...


def l2_normalise(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Row-wise L2 normalisation; zero rows stay zero instead of becoming NaN."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: npt.NDArray[np.float32] = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised
