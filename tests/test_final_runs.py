"""Chapter 10's runs: the quick configuration trains, checkpoints and reloads on the CPU; GPU figures come
only from a results file measured on a GPU (device, date, versions), otherwise "not measured"."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from cnnlib import final_runs as fr

torch.set_num_threads(1)


def test_quick_run_trains_saves_and_reloads(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_PROGRESS", "off")
    spec = fr.RUNS["quick"]["lenet5"]
    spec = replace(spec, train_size=512, test_size=200, config=replace(spec.config, epochs=2))
    record = fr.run(spec, device="cpu", checkpoint_dir=tmp_path)
    assert record["device"] == "cpu" and record["train_images"] == 512 and record["test_images"] == 200
    assert record["parameters"] == 61_706 and "MNIST" in record["train_source"]
    assert record["history"]["loss"][1] < record["history"]["loss"][0]
    assert record["test_acc"] > 0.5  # 2 epochs on 512 real digits: far above chance (0.1)
    assert record["reloaded_test_acc"] == record["test_acc"]  # the checkpoint restores the same classifier
    assert (tmp_path / "lenet5.pt").exists() and record["wall_s"] > 0 and record["images_per_s"] > 0


def test_full_configuration_states_the_targets():
    full = fr.RUNS["full"]
    assert (full["lenet5"].target_acc, full["lenet5"].target_s) == (0.99, 10.0)
    assert (full["resnet9"].target_acc, full["resnet9"].target_s) == (0.94, 60.0)
    assert all(r.train_size is None for r in full.values())  # the whole data sets
    assert full["resnet9"].config.augment and full["resnet9"].config.channels_last


def test_gpu_figures_come_only_from_a_gpu_results_file(tmp_path):
    assert fr.load_gpu_results(tmp_path / "none.json") is None
    assert fr.gpu_figure(None, "lenet5", "test_acc") == "not measured"
    cpu = tmp_path / "cpu.json"
    cpu.write_text(json.dumps({"device": "x86_64", "device_type": "cpu", "date": "2026-12-02", "torch": "2.13.0",
                               "runs": {}}))
    with pytest.raises(ValueError, match="not on a GPU"):
        fr.load_gpu_results(cpu)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"device_type": "cuda", "runs": {}}))
    with pytest.raises(ValueError, match=r"lacks \['device', 'date', 'torch'\]"):
        fr.load_gpu_results(partial)
    good = tmp_path / "gpu.json"
    good.write_text(json.dumps({"device": "NVIDIA H100", "device_type": "cuda", "date": "2026-12-02T00:00:00+00:00",
                                "torch": "2.x", "runs": {"lenet5": {"test_acc": 0.9912, "wall_s": 7.5}}}))
    results = fr.load_gpu_results(good)
    assert fr.gpu_figure(results, "lenet5", "test_acc", "{:.2%}") == "99.12%"
    assert fr.gpu_figure(results, "resnet9", "test_acc") == "not measured"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without a GPU")
def test_main_refuses_the_full_configuration_without_a_gpu(tmp_path, capsys):
    out = tmp_path / "gpu_results.json"
    assert fr.main(["--out", str(out)]) == 2
    assert not out.exists() and "No CUDA device" in capsys.readouterr().err


@pytest.mark.cuda
def test_full_lenet_on_the_gpu_writes_a_results_file(tmp_path):
    out = tmp_path / "gpu_results.json"
    assert fr.main(["--runs", "lenet5", "--out", str(out), "--checkpoints", str(tmp_path)]) == 0
    results = fr.load_gpu_results(out)
    assert results["device_type"] == "cuda" and results["runs"]["lenet5"]["reloaded_test_acc"] > 0.98
