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


REAL_DEBIAN_DIR = None


@pytest.fixture(autouse=True)
def _no_system_fashion_mnist(tmp_path, monkeypatch):
    """Debian's /usr/share/datasets/fashion-mnist is hidden unless a test restores it
    (see test_real_data.py), so "not found" tests behave alike on every machine."""
    from gradstep.datasets import fashion_mnist

    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian-package")
