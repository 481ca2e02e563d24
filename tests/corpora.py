"""Synthetic corpora for tests that need a large index: thousands of passages, built in seconds.

The passages are made of the fixture articles' own words plus a large random
vocabulary, spread over articles and sections, and written straight to an
index (no ingestion), so expansion caps, filters and budgets meet real scale.
"""

from __future__ import annotations

import random
import re
import string
from pathlib import Path

from clonus_index.index import write_index
from clonus_index.models import Article, Passage
from clonus_index.pipeline import Corpus

DATA = Path(__file__).resolve().parent / "data"
SECTIONS = ("Overview", "Symptoms", "Causes", "Diagnosis", "Treatment", "Outlook")


def fixture_words() -> list[str]:
    """The words of the fixture articles, lower-cased, in order of first use."""
    text = " ".join(p.read_text("utf-8") for p in sorted(DATA.glob("*.txt")))
    return list(dict.fromkeys(re.findall(r"[a-z]{3,}", text.lower())))


def synthetic_corpus(articles: int, per_article: int, seed: int = 7,
                     random_words: int = 20_000) -> Corpus:
    """``articles`` x ``per_article`` passages, each article split evenly into SECTIONS."""
    rng = random.Random(seed)
    real = fixture_words()
    made = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 10)))
            for _ in range(random_words)]
    all_articles, all_passages = [], []
    for a in range(articles):
        texts = []
        for _ in range(per_article):
            words = [rng.choice(real) if rng.random() < 0.6 else rng.choice(made)
                     for _ in range(rng.randint(8, 16))]
            texts.append(" ".join(words).capitalize() + ".")
        body = "\n\n".join(texts)
        article = Article(id=f"synthetic-{a:04d}", title=f"Synthetic article {a} on "
                          f"{rng.choice(real)} and {rng.choice(real)}",
                          source=f"synthetic/{a:04d}.txt", text=body)
        offset = 0
        for i, text in enumerate(texts):
            section = SECTIONS[i * len(SECTIONS) // per_article]
            all_passages.append(Passage(
                id=f"{article.id}-p{i}", article=article, position=i, section=section,
                subsection=None, text=text, start=offset, end=offset + len(text)))
            offset += len(text) + 2
        all_articles.append(article)
    return Corpus(tuple(all_articles), tuple(all_passages))


def build_synthetic(path: Path, articles: int, per_article: int, seed: int = 7) -> Path:
    return write_index(synthetic_corpus(articles, per_article, seed), path)
