"""A standardized logistic regression stored as plain numbers: P = σ(coef · (x − mean) / scale + b).

Owns evaluating and (de)serializing the fitted models the assistant loads from `qa/data/`
(`qa.answerability`'s decision, `qa.selector`'s choice of quotes). Fitting them is `bench`'s job.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit  # σ without overflow for large |z|


class ModelMismatch(Exception):
    """A model file does not fit this code's features; re-run `python -m bench calibrate`."""


@dataclass(frozen=True)
class StandardizedLogistic:
    names: tuple[str, ...]  # the features, in the order of the columns it is given
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """P for each row of `x` (rows × features, in `names` order)."""
        z = (np.asarray(x, dtype=np.float64) - np.asarray(self.mean)) / np.asarray(self.scale) @ np.asarray(self.coef) + self.intercept
        return expit(z)

    def to_json(self) -> dict:
        return {"names": list(self.names), "mean": list(self.mean), "scale": list(self.scale), "coef": list(self.coef), "intercept": self.intercept}

    @classmethod
    def from_pipeline(cls, pipeline, names: tuple[str, ...], **extra):
        """The model of a fitted scikit-learn `make_pipeline(StandardScaler(), LogisticRegression())`
        (how `bench` fits them), with `extra` fields of a subclass."""
        scaler, regression = pipeline.steps[0][1], pipeline.steps[1][1]
        return cls(
            names=names, mean=tuple(float(v) for v in scaler.mean_), scale=tuple(float(v) for v in scaler.scale_),
            coef=tuple(float(v) for v in regression.coef_[0]), intercept=float(regression.intercept_[0]), **extra,
        )

    @staticmethod
    def fields(model: dict, names: tuple[str, ...], where: str) -> dict:
        """The constructor's arguments from `model` (a `to_json` object), checked against `names`."""
        if tuple(model.get("names", ())) != names:
            raise ModelMismatch(f"{where} is not fitted on this version's features {list(names)}; re-run `python -m bench calibrate`")
        return {"names": names, "mean": tuple(model["mean"]), "scale": tuple(model["scale"]), "coef": tuple(model["coef"]), "intercept": float(model["intercept"])}
