"""Datasets, augmentation, training, evaluation and calibration of emotion models."""
