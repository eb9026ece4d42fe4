"""get_files, FileGetter and the labellers, on folders of empty files and small DataFrames."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from layered.core.collection import L
from layered.data.errors import DataError
from layered.data.getters import ColReader, FileGetter, RegexLabeller, get_files, parent_label, using_attr


@pytest.fixture
def tree(tmp_path):
    for split in ("train", "valid"):
        for label in ("cat", "dog"):
            (tmp_path / split / label).mkdir(parents=True)
            for i in range(2):
                (tmp_path / split / label / f"{label}_{i}.JPG").write_text("")
    (tmp_path / "train" / "notes.txt").write_text("")
    (tmp_path / "readme.md").write_text("")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "secret.jpg").write_text("")
    (tmp_path / "train" / ".DS_Store").write_text("")
    return tmp_path


def test_get_files_returns_a_sorted_l_of_paths(tree):
    files = get_files(tree)
    assert isinstance(files, L) and all(isinstance(f, Path) for f in files)
    assert files == sorted(files) and len(files) == 10  # hidden file and folder skipped
    assert [f.relative_to(tree).as_posix() for f in files[:3]] == [
        "readme.md",
        "train/cat/cat_0.JPG",
        "train/cat/cat_1.JPG",
    ]


def test_get_files_extensions_any_case_with_or_without_dot(tree):
    assert len(get_files(tree, extensions=[".jpg"])) == 8
    assert len(get_files(tree, extensions=["JPG", ".md"])) == 9
    assert [f.name for f in get_files(tree, extensions=".txt")] == ["notes.txt"]  # one string, one extension
    assert len(get_files(tree, extensions=[".png"])) == 0


def test_get_files_folders_and_recurse(tree):
    valid = get_files(tree, folders=["valid"])
    assert len(valid) == 4 and {f.relative_to(tree).parts[0] for f in valid} == {"valid"}
    assert get_files(tree, folders="valid") == valid  # a single folder name, not its letters
    assert [f.name for f in get_files(tree, folders=[".", "valid"], extensions=".md")] == ["readme.md"]
    assert [f.name for f in get_files(tree, recurse=False)] == ["readme.md"]
    assert [f.name for f in get_files(tree, folders="train", recurse=False)] == ["notes.txt"]


def test_get_files_fails_naming_the_missing_folder(tree):
    with pytest.raises(DataError, match="missing is not a folder"):
        get_files(tree / "missing")
    with pytest.raises(DataError, match=r"folder 'test' not found in"):
        get_files(tree, folders=["train", "test"])


def test_file_getter(tree):
    get = FileGetter("train", extensions=[".jpg"])
    assert get.__name__ == "FileGetter('train')"
    files = get(tree)
    assert len(files) == 4 and all(f.relative_to(tree).parts[0] == "train" for f in files)
    assert len(FileGetter(folders=["valid"])(str(tree))) == 4


def test_parent_label_and_regex_labeller():
    f = Path("/data/train/dog/dog_12.jpg")
    assert parent_label(f) == "dog" and parent_label("a/b/c.png") == "b"
    assert RegexLabeller(r"([a-z]+)_\d+\.jpg$")(f) == "dog"  # searched anywhere in the path
    assert RegexLabeller(r"\d+")(f) == "12"  # no group: the whole match
    assert RegexLabeller(r"^(\w+?)_", match=True)(f.name) == "dog"
    with pytest.raises(DataError, match=r"pattern '\^\(\\\\d\+\)' does not match item 'dog_12.jpg'"):
        RegexLabeller(r"^(\d+)", match=True)(f.name)
    with pytest.raises(DataError, match=r"does not match item '/data/train/dog/dog_12\.jpg'"):
        RegexLabeller(r"^dog", match=True)(f)


def test_col_reader_on_series_and_namedtuples():
    df = pd.DataFrame({"fname": ["a", "b"], "tags": ["x y", np.nan], "n": [1, 2]})
    row = df.iloc[0]
    assert ColReader("fname", pref="img/", suff=".png")(row) == "img/a.png"
    assert ColReader("fname", pref=Path("imgs"), suff=".png")(row) == Path("imgs/a.png")
    assert ColReader("tags", label_delim=" ")(row) == ["x", "y"]
    assert ColReader("tags", label_delim=" ")(df.iloc[1]) == []  # missing value: no labels
    assert ColReader(["fname", "n"])(row) == ["a", 1]
    assert ColReader(2)(row) == 1  # an int is a position in a Series
    tup = next(df.itertuples(index=False))
    assert ColReader("fname", suff="!")(tup) == "a!" and ColReader(2)(tup) == 1
    assert ColReader("fname")({"fname": "c"}) == "c"


def test_col_reader_fails_naming_the_column():
    row = pd.DataFrame({"fname": ["a"]}).iloc[0]
    with pytest.raises(DataError, match=r"no column 'label' in the row \(columns: \['fname'\]\)"):
        ColReader("label")(row)
    tup = next(pd.DataFrame({"fname": ["a"]}).itertuples(index=False))
    with pytest.raises(DataError, match=r"no column 'label' in the row \(columns: \['fname'\]\)"):
        ColReader("label")(tup)


def test_using_attr():
    label = using_attr(RegexLabeller(r"^([a-z]+)_"), "name")
    assert label(Path("/x/cat_3.jpg")) == "cat"
    assert using_attr(str.upper, "stem")(Path("a/b.txt")) == "B"
    with pytest.raises(DataError, match=r"item 'cat_3\.jpg' has no attribute 'name'"):
        label("cat_3.jpg")
