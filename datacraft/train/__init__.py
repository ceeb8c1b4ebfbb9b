"""Training: LoRA fine-tuning, loss-curve diagnostics, data-size saturation curves, hyper-parameter search.

Importing this package needs no torch; the functions that train import it when called
(`pip install datacraft[train]`).
"""

from datacraft.train.config import LoraSettings, TrainConfig, load_train_config
from datacraft.train.data import Example, encode_record, encode_records, load_records, to_messages
from datacraft.train.diagnose import Diagnosis, diagnose, diagnose_history, read_metrics
from datacraft.train.fit import Fit, best_fit, diminishing_returns, fit_curve, size_at_fraction
from datacraft.train.guidance import Guidance, epoch_guidance, suggested_epochs
from datacraft.train.merge import merge_adapter
from datacraft.train.metrics import exact_match, load_metric, token_f1
from datacraft.train.run import saturation_model, train_model
from datacraft.train.saturation import SaturationConfig, nested_order, run_saturation
from datacraft.train.tune import TuneConfig, tune_model

__all__ = [
    "Diagnosis",
    "Example",
    "Fit",
    "Guidance",
    "LoraSettings",
    "SaturationConfig",
    "TrainConfig",
    "TuneConfig",
    "best_fit",
    "diagnose",
    "diagnose_history",
    "diminishing_returns",
    "encode_record",
    "encode_records",
    "epoch_guidance",
    "exact_match",
    "fit_curve",
    "load_metric",
    "load_records",
    "load_train_config",
    "merge_adapter",
    "nested_order",
    "read_metrics",
    "run_saturation",
    "saturation_model",
    "size_at_fraction",
    "suggested_epochs",
    "to_messages",
    "token_f1",
    "train_model",
    "tune_model",
]
