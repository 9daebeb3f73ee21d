"""Datasets, augmentation, training, evaluation and calibration of emotion models.

Data (what the clips are):
    datasets.py      corpus readers (RAVDESS, EmoDB, ..., CSV manifests) and speaker splits
    waves.py         decoding clips to 16 kHz mono waveforms
    embeddings.py    Whisper embeddings of clips (and augmented copies), cached on disk
Augmentation:
    augment.py       voice-note conditions: codec round trip, noise, reverb, pitch, tempo, gain
Training (one fit loop, one recipe per model):
    fit.py           TrainConfig, TrainResult and the shared fit loop a Recipe plugs its hooks into
    compact_recipe.py  the compact CNN on log-mel features
    hubert_recipe.py   fine-tuning a transformers checkpoint (HuBERT, wav2vec2, WavLM)
    whisper_head.py  the Whisper head: a logistic regression on embeddings, no epochs
    train.py         the entry point: speaker split, the chosen recipe, the run folder
    retrain.py       refitting the Whisper head with feedback, behind a guard set
Scoring:
    metrics.py       accuracy, UAR, macro-F1, ECE, confusion matrices
    calibrate.py     temperature scaling
    scoring.py       scoring a model on clips (per corpus, four-class) and writing the results
    evaluate.py      scoring plus leave-one-speaker-out cross-validation

Imports run one way, down this list of layers: data and augmentation, then metrics, calibrate
and scoring, then fit, then the recipes, then train, evaluate and retrain at the top.
"""
