"""Settings: defaults < config file < environment < flags."""

from __future__ import annotations

from server import config
from server.cli import parse_args


def test_precedence(tmp_path, monkeypatch):
    f = tmp_path / "cqld.toml"
    f.write_text('port = 9100\nreplicas = 5\ncluster_name = "from-file"\nlwt_cross_partition_batches = true\n')
    monkeypatch.setenv("CQLD_REPLICAS", "4")
    monkeypatch.setenv("CQLD_DATA_DIR", "/env/dir")
    config_file, flags = parse_args(["--config", str(f), "--data-dir", "/flag/dir"])
    cfg = config.load(config_file, flags)
    assert cfg.port == 9100  # file
    assert cfg.replicas == 4  # environment beats file
    assert cfg.data_dir == "/flag/dir"  # flag beats environment
    assert cfg.cluster_name == "from-file"
    assert cfg.lwt_cross_partition_batches is True
    assert cfg.host == "127.0.0.1"  # default


def test_environment_booleans_and_config_file_from_environment(tmp_path, monkeypatch):
    f = tmp_path / "c.toml"
    f.write_text('commitlog_sync = "batch"\n')
    monkeypatch.setenv("CQLD_CONFIG", str(f))
    monkeypatch.setenv("CQLD_LWT_CROSS_PARTITION_BATCHES", "yes")
    cfg = config.load(*parse_args([]))
    assert cfg.commitlog_sync == "batch"
    assert cfg.lwt_cross_partition_batches is True
