"""TextDataLoaders: language-model or classification loaders from a DataFrame, a CSV or a folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from layered.core.delegation import delegates
from layered.core.registry import register_serializable
from layered.data.blocks import CategoryBlock, MultiCategoryBlock
from layered.data.data_block import DataBlock
from layered.data.dataloaders import DataLoaders
from layered.data.errors import DataError
from layered.data.getters import ColReader, FileGetter, parent_label
from layered.data.splitters import ColSplitter, GrandparentSplitter, RandomSplitter
from layered.text._sources import check_columns
from layered.text.blocks import TextBlock
from layered.text.errors import TextError
from layered.text.tokenizer_transform import Tokenizer

__all__ = ["TextDataLoaders"]


def _column(df: Any, col: Any, what: str) -> Any:
    """A column name from a name or a position, checked to exist."""
    if isinstance(col, int) and col not in df.columns:
        if not 0 <= col < len(df.columns):
            raise TextError(f"TextDataLoaders: {what} position {col} is past the {len(df.columns)} columns")
        return df.columns[col]
    check_columns(df.columns, [col], f"TextDataLoaders ({what})")
    return col


@register_serializable
class _LabelReader:
    """A row's label, read by a ColReader.

    A Pipeline cannot use a ColReader directly: it dispatches on its `__call__` annotations, which
    it cannot resolve (strings, `Any`); this `__call__` has none.
    """

    def __init__(self, col: Any, label_delim: str | None):
        self.reader = ColReader(col, label_delim=label_delim)

    def __call__(self, row):
        return self.reader(row)


@register_serializable
class TextDataLoaders(DataLoaders):
    """Loaders for texts: a language model's streams (`is_lm`) or a classifier's sorted, padded batches.

    Training and validation texts are both tokenized up front, over `n_workers` processes (see
    `layered.text.tokenize`). `tok_tfm` replaces the default `Tokenizer` (spaCy and the default
    rules); `text_vocab` fixes the vocabulary (e.g. the language model's, for its classifier).
    Other keyword arguments go to the loaders (`bs`, `num_workers`, `device`, ...).
    """

    @property
    def vocab(self) -> Any:
        """The vocabularies of the training set's elements: the token list alone for a language
        model, `[tokens, labels]` for a classifier."""
        vocabs = []
        for tl in self.train_ds.tls:
            found = [f.vocab for f in tl.tfms.fs if getattr(f, "vocab", None) is not None]
            vocabs.append(found[-1] if found else None)
        return vocabs[0] if len(vocabs) == 1 else vocabs

    @classmethod
    def _build(cls, dblock: DataBlock, source: Any, tok_tfm: Tokenizer, path: Any, bs: int, **kwargs: Any):
        dsets = dblock.datasets(source)
        for subset in dsets.subsets[1:]:
            tok_tfm.tokenize_items(subset.items)  # in parallel now, rather than one by one in the loaders
        dls = cls.from_dsets(
            *dsets.subsets,
            path=path,
            bs=bs,
            after_item=dblock.item_tfms,
            after_batch=dblock.batch_tfms,
            **{**dblock.dls_kwargs, **kwargs},
        )
        try:
            dls.train.one_batch()
        except DataError as e:
            raise TextError(f"TextDataLoaders: the first training batch cannot be built: {e}") from e
        return dls

    @classmethod
    def from_df(
        cls,
        df: Any,
        path: str | Path = ".",
        valid_pct: float = 0.2,
        seed: int | None = None,
        text_col: Any = 0,
        label_col: Any = 1,
        label_delim: str | None = None,
        y_block: Any = None,
        text_vocab: Sequence[str] | None = None,
        is_lm: bool = False,
        valid_col: Any = None,
        tok_tfm: Tokenizer | None = None,
        seq_len: int = 72,
        min_freq: int = 3,
        max_vocab: int = 60000,
        n_workers: int | None = None,
        cache_dir: str | Path | None = None,
        bs: int = 64,
        backwards: bool = False,
        **kwargs: Any,
    ) -> TextDataLoaders:
        """From a DataFrame: texts in `text_col` (a name, a position, or a list: joined with `xxfld i`),
        labels in `label_col` (unused with `is_lm`); validation rows where `valid_col` is true, else a
        random `valid_pct` of them. `backwards` (with `is_lm`): a backwards language model's data."""
        cols = text_col if isinstance(text_col, (list, tuple)) else [text_col]
        cols = [_column(df, c, "text_col") for c in cols]
        if tok_tfm is None:
            tok_tfm = Tokenizer.from_df(cols, n_workers=n_workers, cache_dir=cache_dir)
        blocks: list = [TextBlock(tok_tfm, text_vocab, is_lm, seq_len, min_freq, max_vocab, backwards)]
        get_y = None
        if not is_lm:
            label = _column(df, label_col, "label_col")
            blocks.append(y_block or (MultiCategoryBlock() if label_delim else CategoryBlock()))
            get_y = _LabelReader(label, label_delim)
        if valid_col is not None:
            splitter = ColSplitter(_column(df, valid_col, "valid_col"))
        else:
            splitter = RandomSplitter(valid_pct, seed=seed)
        dblock = DataBlock(blocks=blocks, get_y=get_y, splitter=splitter, n_inp=1)
        return cls._build(dblock, df, tok_tfm, path, bs, **kwargs)

    @classmethod
    @delegates(from_df, keep=True, but="path")
    def from_csv(
        cls,
        path: str | Path,
        csv_fname: str = "labels.csv",
        header: Any = "infer",
        delimiter: str | None = None,
        **kwargs: Any,
    ) -> TextDataLoaders:
        """`from_df` of `path/csv_fname`; tokens are cached in `path/.layered_text` unless `cache_dir` says otherwise."""
        import pandas as pd

        path = Path(path)
        if not (path / csv_fname).is_file():
            raise TextError(f"TextDataLoaders.from_csv: {path / csv_fname} is not a file")
        df = pd.read_csv(path / csv_fname, header=header, sep=delimiter or ",")
        kwargs.setdefault("cache_dir", path / ".layered_text")
        return cls.from_df(df, path=path, **kwargs)

    @classmethod
    def from_folder(
        cls,
        path: str | Path,
        train: str = "train",
        valid: str = "valid",
        valid_pct: float | None = None,
        seed: int | None = None,
        vocab: Sequence[str] | None = None,
        text_vocab: Sequence[str] | None = None,
        is_lm: bool = False,
        tok_tfm: Tokenizer | None = None,
        seq_len: int = 72,
        min_freq: int = 3,
        max_vocab: int = 60000,
        extensions: Sequence[str] = (".txt",),
        encoding: str = "utf8",
        n_workers: int | None = None,
        cache_dir: Any = None,
        bs: int = 64,
        backwards: bool = False,
        **kwargs: Any,
    ) -> TextDataLoaders:
        """From `path/train/<label>/*.txt` and `path/valid/<label>/*.txt` (or a random `valid_pct`
        of all files). `vocab` fixes the labels, `text_vocab` the tokens. Tokens are cached in
        `path/.layered_text` (`cache_dir=False`: not cached). `backwards` (with `is_lm`): a
        backwards language model's data."""
        path = Path(path)
        if tok_tfm is None:
            tok_tfm = Tokenizer.from_folder(path, encoding=encoding, n_workers=n_workers, cache_dir=cache_dir)
        blocks: list = [TextBlock(tok_tfm, text_vocab, is_lm, seq_len, min_freq, max_vocab, backwards)]
        if not is_lm:
            blocks.append(CategoryBlock(vocab=vocab))
        if valid_pct is None:
            get_items, splitter = (
                FileGetter(extensions=extensions, folders=[train, valid]),
                GrandparentSplitter(train, valid),
            )
        else:
            get_items, splitter = FileGetter(extensions=extensions), RandomSplitter(valid_pct, seed=seed)
        dblock = DataBlock(
            blocks=blocks,
            get_items=get_items,
            splitter=splitter,
            get_y=None if is_lm else parent_label,
            n_inp=1,
        )
        return cls._build(dblock, path, tok_tfm, path, bs, **kwargs)
