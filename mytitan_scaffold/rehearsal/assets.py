"""Tiny tokenizer and dataset for CPU rehearsals, generated locally and cached.

Nothing is downloaded: the text comes from a seeded generator of templated
sentences and arithmetic facts (easy for a small model to learn, so the loss
visibly falls), and the tokenizer is a byte-level BPE trained on that text.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

CACHE_DIR_ENV = "MYTITAN_CACHE_DIR"
# Bump the version whenever the generated assets change, so stale caches are ignored.
CACHE_VERSION = "rehearsal-v1"
TOKENIZER_SUBDIR = "tokenizer"
DATASET_SUBDIR = "dataset"

BOS_TOKEN = "<|begin_of_text|>"
EOS_TOKEN = "<|end_of_text|>"
# An upper bound: the templated text yields about 730 tokens, so the tokenizer
# fits any model with vocab_size >= 2048 (torchtitan's llama3 debugmodel).
VOCAB_SIZE = 2000
SEED = 20240611
# About 0.44M tokens: ~400 steps of 8 x 128 tokens without repeating the data.
NUM_DOCUMENTS = 6000

NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
ITEMS = ("apples", "books", "coins", "stones", "cards", "shells", "pens", "cups")
ADJECTIVES = ("red", "blue", "green", "small", "big", "old", "young", "quiet")
ANIMALS = ("cat", "dog", "fox", "bird", "horse", "mouse", "owl", "frog")
VERBS = ("sees", "follows", "likes", "watches", "chases", "helps")
PLACES = ("garden", "forest", "river", "market", "school", "village")


def default_cache_dir() -> Path:
    """`$MYTITAN_CACHE_DIR/rehearsal-v1`, or `~/.cache/mytitan/rehearsal-v1`."""
    root = os.environ.get(CACHE_DIR_ENV)
    base = Path(root) if root else Path.home() / ".cache" / "mytitan"
    return base / CACHE_VERSION


def ensure_assets(cache_dir: Path | None = None) -> Path:
    """Build the rehearsal assets once and return their folder.

    The folder holds `tokenizer/` (pass it as `--model.hf_assets_path`) and
    `dataset/` (a JSONL folder of `{"text": ...}` lines). It is built in a
    temporary sibling folder and renamed into place, so concurrent callers
    never see half-written assets.
    """
    target = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache may be shared.
    try:
        _build(staging)
        staging.rename(target)
    except OSError:
        # Another process renamed its copy into place first; use that one.
        if not target.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _build(folder: Path) -> None:
    documents = generate_documents(NUM_DOCUMENTS, seed=SEED)
    dataset_dir = folder / DATASET_SUBDIR
    dataset_dir.mkdir()
    with open(dataset_dir / "train.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"text": text}) + "\n" for text in documents)
    _write_tokenizer(folder / TOKENIZER_SUBDIR, documents)


def generate_documents(count: int, *, seed: int) -> list[str]:
    """Paragraphs of templated sentences and arithmetic facts, deterministic in `seed`."""
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(_SENTENCES)(rng) for _ in range(rng.randint(4, 10)))
        for _ in range(count)
    ]


def _sum_fact(rng: random.Random) -> str:
    a, b = rng.randint(0, 99), rng.randint(0, 99)
    return f"{a} plus {b} is {a + b}."


def _sharing_story(rng: random.Random) -> str:
    first, second = rng.sample(NAMES, 2)
    item = rng.choice(ITEMS)
    a, b = rng.randint(1, 20), rng.randint(1, 20)
    return (
        f"{first} has {a} {item} and {second} has {b} {item}, "
        f"so together they have {a + b} {item}."
    )


def _scene(rng: random.Random) -> str:
    adjective, other_adjective = rng.sample(ADJECTIVES, 2)
    animal, other_animal = rng.sample(ANIMALS, 2)
    return (
        f"the {adjective} {animal} {rng.choice(VERBS)} the {other_adjective} "
        f"{other_animal} in the {rng.choice(PLACES)}."
    )


def _counting(rng: random.Random) -> str:
    start = rng.randint(1, 90)
    return " ".join(str(n) for n in range(start, start + rng.randint(3, 8))) + "."


_SENTENCES: tuple[Callable[[random.Random], str], ...] = (
    _sum_fact,
    _sharing_story,
    _scene,
    _counting,
)


def _write_tokenizer(folder: Path, documents: list[str]) -> None:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[BOS_TOKEN, EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(documents, trainer)
    folder.mkdir()
    tokenizer.save(str(folder / "tokenizer.json"))
    # torchtitan's HuggingFaceTokenizer reads bos/eos from here; transformers can load it too.
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS_TOKEN,
        "eos_token": EOS_TOKEN,
        "add_bos_token": True,
        "add_eos_token": False,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
