"""Text conditioning: a tokenizer for the toy-world vocabulary (English and Chinese) and a small
trained text encoder, behind an interface a larger encoder can implement later."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from contract.prompt_parser import parse_prompt
from contract.vocabulary import SLOT_WORDS, SLOTS

PAD = 0


def _slot_sizes() -> dict[str, int]:
    return {slot: len(SLOT_WORDS[slot]) for slot in SLOTS}


def _slot_offsets() -> dict[str, int]:
    offsets, at = {}, 1  # 0 is padding: the empty prompt, also the unconditional input for CFG
    for slot, n in _slot_sizes().items():
        offsets[slot] = at
        at += n
    return offsets


VOCAB_SIZE = 1 + sum(_slot_sizes().values())


@dataclass
class Tokens:
    ids: list[int]
    unknown: list[str]


class Tokenizer:
    """Maps a prompt to one token per recognised concept; language and word order do not matter."""

    def __init__(self, max_len: int = 8):
        self.max_len = max_len
        self.offsets = _slot_offsets()

    def tokenize(self, text: str) -> Tokens:
        parsed = parse_prompt(text or "")
        ids = [self.offsets[s] + getattr(parsed, s) for s in SLOTS if getattr(parsed, s) is not None]
        return Tokens(ids=ids[: self.max_len], unknown=list(parsed.unknown))

    def scene_ids(self, scene, keep: tuple[bool, ...] | None = None) -> list[int]:
        """Token ids for a rendered scene, optionally with some slots left out (as a terse prompt would)."""
        keep = keep or (True,) * len(SLOTS)
        return [self.offsets[s] + getattr(scene, s) for s, k in zip(SLOTS, keep, strict=True) if k]

    def pad(self, ids: list[int]) -> list[int]:
        return (list(ids) + [PAD] * self.max_len)[: self.max_len]

    def batch(self, texts: list[str]) -> tuple[torch.Tensor, list[list[str]]]:
        toks = [self.tokenize(t) for t in texts]
        return torch.tensor([self.pad(t.ids) for t in toks], dtype=torch.long), [t.unknown for t in toks]


class TextEncoder(nn.Module):
    """The interface: token ids B×L → context B×L×width. A larger encoder replaces this class."""

    width: int

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError


class SmallTextEncoder(TextEncoder):
    """Embedding + a few transformer layers with no position embedding: a set encoder, so the order
    of the words in a prompt cannot change its meaning. Trained jointly with the U-ViT."""

    def __init__(self, vocab_size: int, width: int, layers: int = 2, heads: int = 4):
        super().__init__()
        self.width = width
        self.embed = nn.Embedding(vocab_size, width, padding_idx=None)
        layer = nn.TransformerEncoderLayer(width, heads, width * 2, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False) if layers else None
        self.norm = nn.LayerNorm(width)
        nn.init.normal_(self.embed.weight, std=0.02)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        h = self.embed(ids)
        if self.encoder is not None:
            h = self.encoder(h)
        return self.norm(h)
