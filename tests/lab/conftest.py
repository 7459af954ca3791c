import pytest


@pytest.fixture(autouse=True)
def _isolated_caches(tmp_path, monkeypatch):
    """No test sees the real ~/.keras or gradstep cache; unexpected errors re-raise."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("GRADSTEP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GRADSTEP_DEBUG", "1")
    monkeypatch.chdir(tmp_path)
