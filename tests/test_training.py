"""Training, evaluation and calibration: real (tiny) models trained on real audio files end to end."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from data_augment.calibrate import fit_temperature, softmax
from data_augment.datasets import read_manifest
from data_augment.evaluate import evaluate_model, leave_one_speaker_out, write_evaluation
from data_augment.metrics import compute_metrics, expected_calibration_error
from data_augment.train import TrainConfig, split_for_training, train
from inference.models import load_model
from inference.models.compact import CompactModel, CompactNet, ModelCard, NetConfig
from tests import audio_factory

TINY_NET = NetConfig(channels=(8, 16), embed_dim=16, dropout=0.0)


# Two "emotions" a tiny model can tell apart in a few steps: a high, bright voice and a low one.
def _tiny_config(**overrides) -> TrainConfig:
    base = TrainConfig(
        epochs=6,
        batch_size=8,
        learning_rate=1e-2,
        augment=False,
        net=TINY_NET,
        test_speakers=("toy:spk3",),
        val_fraction=0.25,
        test_fraction=0.25,
        patience=100,
        # A weight average needs more steps than these runs take to leave its starting point.
        ema=0.0,
        version="test",
    )
    return replace(base, **overrides)


def test_compact_training_lowers_loss_and_writes_a_loadable_run_folder(toy_manifest, tmp_path):
    clips = read_manifest(toy_manifest)
    result = train(clips, _tiny_config(), tmp_path / "run", progress=False)

    assert result.history[-1].loss < result.history[0].loss
    run = tmp_path / "run"
    for name in ("voicemood_model.json", "model.safetensors", "train_config.json", "labels.json"):
        assert (run / name).is_file(), name
    assert json.loads((run / "labels.json").read_text()) == {"0": "happy", "1": "sad"}
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["speakers"]["test"] == ["toy:spk3"]
    assert "toy:spk3" not in metrics["speakers"]["train"] + metrics["speakers"]["val"]
    assert metrics["test"]["overall"]["n"] == 6
    assert (run / "test_confusion.png").is_file()

    model = load_model(str(run))
    assert isinstance(model, CompactModel) and model.name == "compact:test"
    assert model.labels == ("happy", "sad")
    assert model.card.temperature == pytest.approx(metrics["calibration"]["temperature"])
    high = audio_factory.speechlike(1.5, f0=250.0, seed=7)
    low = audio_factory.speechlike(1.5, f0=100.0, seed=8)
    rows = model.predict([high, low])
    assert rows.shape == (2, 2) and np.allclose(rows.sum(axis=1), 1.0, atol=1e-5)
    assert rows[0].argmax() == 0 and rows[1].argmax() == 1


def test_same_seed_trains_identical_weights_and_another_seed_does_not(toy_manifest, tmp_path):
    clips = read_manifest(toy_manifest)
    config = _tiny_config(epochs=2)
    weights = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        train(clips, replace(config, seed=seed), tmp_path / name, progress=False)
        model = CompactModel.load(tmp_path / name)
        weights.append(torch.cat([p.flatten() for p in model.net.state_dict().values()]))
    assert torch.equal(weights[0], weights[1])
    assert not torch.equal(weights[0], weights[2])


def test_ensemble_members_differ_and_the_model_averages_their_logits(toy_manifest, tmp_path):
    clips = read_manifest(toy_manifest)
    train(clips, _tiny_config(epochs=2, members=2), tmp_path / "ensemble", progress=False)
    model = CompactModel.load(tmp_path / "ensemble")
    assert model.card.members == 2 and len(model.net.members) == 2
    first, second = (torch.cat([p.flatten() for p in m.parameters()]) for m in model.net.members)
    assert not torch.equal(first, second)
    wave = audio_factory.speechlike(1.0, f0=200.0, seed=5)
    features = model.features(wave)[None]
    with torch.no_grad():
        mean = torch.stack([m(features)[0] for m in model.net.members]).mean(0)
    expected = torch.softmax(mean / model.card.temperature, dim=-1).numpy()
    assert np.allclose(model.predict([wave])[0], expected, atol=1e-5)


def test_split_keeps_every_speaker_in_one_part(toy_manifest):
    clips = read_manifest(toy_manifest)
    train_part, val, test = split_for_training(clips, _tiny_config())
    speakers = [{c.speaker for c in part} for part in (train_part, val, test)]
    assert speakers[2] == {"toy:spk3"}
    assert not (speakers[0] & speakers[1]) and not (speakers[0] & speakers[2])
    assert not (speakers[1] & speakers[2])
    assert len(train_part) + len(val) + len(test) == len(clips)


def test_augmented_training_makes_versions_that_differ_from_the_clean_clips(toy_manifest):
    from data_augment.train import prepare_features
    from data_augment.waves import load_waveforms

    clips = read_manifest(toy_manifest)[:3]
    versions = prepare_features(load_waveforms(clips), _tiny_config(augment=True, augment_copies=1))
    assert len(versions) == 2
    assert all(f.shape[0] == 64 for version in versions for f in version)
    # The random chain may draw only a gain (which per-clip normalisation cancels) for one clip.
    assert any(
        c.shape != a.shape or not torch.allclose(c, a)
        for c, a in zip(versions[0], versions[1], strict=True)
    )


def test_eval_writes_metrics_and_a_confusion_png_of_the_expected_size(toy_manifest, tmp_path):
    import matplotlib.image

    clips = read_manifest(toy_manifest)
    torch.manual_seed(0)
    card = ModelCard(labels=("happy", "sad", "angry"), version="untrained", net=TINY_NET)
    model = CompactModel(CompactNet(64, 3, TINY_NET), card)
    evaluation = evaluate_model(model, clips)

    # Closed-set: only the labels the set holds are chosen from, "angry" is never predicted.
    assert evaluation.overall.labels == ("happy", "sad")
    assert evaluation.overall.n == len(clips) and evaluation.skipped == 0
    assert sum(map(sum, evaluation.overall.confusion)) == len(clips)
    written = write_evaluation(evaluation, tmp_path)
    saved = json.loads((tmp_path / "eval_metrics.json").read_text())
    assert set(saved["overall"]) >= {"accuracy", "uar", "macro_f1", "per_class_recall", "ece"}
    png = tmp_path / "eval_confusion.png"
    assert png in written
    height, width = matplotlib.image.imread(png).shape[:2]
    size = 1.2 + 0.6 * 2  # inches per the plot's layout for two labels, at 100 dpi
    assert (width, height) == (round((size + 1.0) * 100), round(size * 100))


def test_metrics_match_hand_counted_values():
    labels = ("neutral", "happy", "sad")
    targets = [0, 0, 1, 1, 1, 1, 2, 2]
    predicted = [0, 1, 1, 1, 1, 0, 2, 0]
    probs = np.eye(3)[predicted] * 0.7 + 0.1
    metrics = compute_metrics(targets, probs, labels)
    assert metrics.accuracy == pytest.approx(5 / 8)
    assert metrics.per_class_recall == pytest.approx({"neutral": 0.5, "happy": 0.75, "sad": 0.5})
    assert metrics.uar == pytest.approx((0.5 + 0.75 + 0.5) / 3)
    # F1 per class: neutral 2*(1/3*1/2)/(1/3+1/2)=0.4, happy 0.75, sad 2/3.
    assert metrics.macro_f1 == pytest.approx((0.4 + 0.75 + 2 / 3) / 3)
    assert metrics.confusion == [[1, 1, 0], [1, 3, 0], [1, 0, 1]]
    # Every answer claims 0.8 confidence and 5 of 8 are right.
    assert metrics.ece == pytest.approx(0.8 - 5 / 8)


def test_temperature_scaling_makes_an_overconfident_model_honest():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 4, 400)
    # Right 60 % of the time, but with logits so large every answer claims ~100 % confidence.
    predicted = np.where(rng.random(400) < 0.6, targets, rng.integers(0, 4, 400))
    logits = 12.0 * np.eye(4)[predicted] + rng.normal(0, 1.0, (400, 4))
    calibration = fit_temperature(logits, targets)
    assert calibration.temperature > 1.5
    assert calibration.ece_after < calibration.ece_before - 0.2
    assert calibration.ece_after == pytest.approx(
        expected_calibration_error(softmax(logits, calibration.temperature), targets)
    )
    assert calibration.nll_after < calibration.nll_before
    # Scaling never changes which label wins.
    assert (softmax(logits, calibration.temperature).argmax(1) == logits.argmax(1)).all()


def test_compact_model_takes_any_length_rows_sum_to_one_and_repeats_itself():
    torch.manual_seed(0)
    card = ModelCard(labels=("neutral", "happy", "sad", "angry"), version="t")
    model = CompactModel(CompactNet(64, 4, card.net), card)
    waves = [audio_factory.speechlike(s, seed=i) for i, s in enumerate((0.5, 1.0, 3.3, 20.0))]
    waves.append(np.zeros(100, np.float32))  # shorter than one analysis window
    first = model.predict(waves)
    assert first.shape == (5, 4) and first.dtype == np.float32
    assert np.allclose(first.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first, model.predict(waves))
    # One clip gives the same answer alone as inside a batch of other lengths.
    assert np.allclose(model.predict([waves[2]])[0], first[2], atol=1e-6)
    hotter = CompactModel(model.net, replace(card, temperature=3.0)).predict(waves)
    assert (hotter.argmax(1) == first.argmax(1)).all()
    assert (hotter.max(1) < first.max(1)).all()


def test_leave_one_speaker_out_scores_every_clip_with_a_model_that_never_heard_its_speaker(
    toy_manifest,
):
    clips = read_manifest(toy_manifest)
    config = _tiny_config(epochs=2, test_speakers=(), test_fraction=0.0, val_fraction=0.34)
    result = leave_one_speaker_out(clips, config, progress=False)
    assert sorted(result.per_speaker_uar) == [f"toy:spk{i}" for i in range(4)]
    assert result.evaluation.overall.n == len(clips)


def test_hubert_finetune_writes_a_folder_the_transformers_loader_reads(
    toy_manifest, tiny_hubert_dir, tmp_path
):
    from inference.models.hf import HFAudioClassifier

    clips = read_manifest(toy_manifest)
    config = _tiny_config(
        arch="hubert", init=str(tiny_hubert_dir), max_steps=3, epochs=1, learning_rate=1e-3
    )
    result = train(clips, config, tmp_path / "hubert-run", progress=False)
    assert result.arch == "hubert" and result.test is not None
    assert result.calibration is not None and result.calibration.temperature > 0
    model = load_model(str(tmp_path / "hubert-run"))
    assert isinstance(model, HFAudioClassifier)
    assert model.labels == ("happy", "sad")
    rows = model.predict([audio_factory.speechlike(1.2, seed=3)])
    assert rows.shape == (1, 2) and rows.sum() == pytest.approx(1.0, abs=1e-5)
    assert json.loads((tmp_path / "hubert-run" / "labels.json").read_text())["1"] == "sad"


def test_train_and_eval_commands_run_end_to_end(toy_manifest, tmp_path, capsys):
    from voicemood.cli import main

    run = tmp_path / "cli-run"
    status = main(
        ["train", "--dataset", str(toy_manifest), "--out", str(run), "--epochs", "2"]
        + ["--no-augment", "--test-speakers", "toy:spk0", "--batch-size", "8"]
    )
    assert status == 0
    assert "test (speakers never trained on)" in capsys.readouterr().out
    status = main(
        ["eval", "--dataset", str(toy_manifest), "--model", str(run)]
        + ["--out", str(tmp_path / "eval")]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "UAR=" in out and "ECE=" in out
    assert (tmp_path / "eval" / "eval_confusion.png").is_file()


def test_eval_command_reports_an_unreadable_dataset_instead_of_crashing(tmp_path, capsys):
    from voicemood.cli import main

    status = main(["eval", "--dataset", f"ravdess:{tmp_path / 'missing'}", "--model", "x"])
    assert status == 2
    assert "does not exist" in capsys.readouterr().err
