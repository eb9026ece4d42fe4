"""The layered home folder and its `archive`, `data` and `models` folders."""

import pytest

from layered.data.config import Config, layered_home
from layered.data.errors import DataError


def test_home_follows_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("LAYERED_HOME", str(tmp_path / "home"))
    assert layered_home() == tmp_path / "home"
    monkeypatch.setenv("LAYERED_HOME", "")
    assert layered_home().name == ".layered"


def test_config_creates_its_folders_on_first_use(tmp_path):
    config = Config(tmp_path / "h")
    assert not (tmp_path / "h").exists()
    assert config.data == tmp_path / "h" / "data" and config.data.is_dir()
    assert config.models.is_dir() and config.archive.is_dir()
    with pytest.raises(DataError, match="unknown folder 'cache'; expected one of archive, data, models"):
        config.path("cache")
