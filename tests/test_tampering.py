"""Artifacts that were tampered with are refused with an error naming the file, and a pickle payload never runs."""

import hashlib
import io

import pytest
import torch

from advreg.artifacts import ArtifactIntegrityError, digest_path, load_artifact, save_artifact
from advreg.checkpoints import load_model, save_model
from advreg.models import build_model


class _Payload:
    """Unpickling this object would create a marker file: the proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture
def model_file(tmp_path):
    torch.manual_seed(0)
    model = build_model("mlp_lwa", (1, 4, 4), 3, hidden=(5,))
    path = tmp_path / "model.pt"
    save_model(path, model, arch="mlp_lwa", arch_kwargs={"hidden": [5]}, input_shape=(1, 4, 4), num_classes=3)
    return path


def test_an_intact_artifact_loads(model_file):
    model, meta = load_model(model_file)
    assert meta["arch"] == "mlp_lwa" and digest_path(model_file).read_text().endswith("  model.pt\n")


def test_a_pickle_payload_never_runs(tmp_path):
    """Even with a matching digest record (an attacker wrote both), weights_only loading refuses the payload."""
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    buffer = io.BytesIO()
    torch.save({"state_dict": {}, "evil": _Payload(marker)}, buffer)
    path.write_bytes(buffer.getvalue())
    digest_path(path).write_text(f"{hashlib.sha256(buffer.getvalue()).hexdigest()}  model.pt\n")
    with pytest.raises(ValueError, match=f"{path} is not a valid advreg artifact"):
        load_model(path)
    assert not marker.exists(), "the pickle payload ran"


def test_a_truncated_artifact_is_refused(model_file):
    data = model_file.read_bytes()
    model_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactIntegrityError, match=f"{model_file}: SHA256 .* differs .* truncated"):
        load_model(model_file)


def test_a_changed_artifact_is_refused(model_file):
    blob = torch.load(model_file, weights_only=True)
    blob["state_dict"] = {k: v + 1 for k, v in blob["state_dict"].items()}  # different weights, valid file
    torch.save(blob, model_file)
    with pytest.raises(ArtifactIntegrityError, match=str(model_file)):
        load_model(model_file)


def test_an_artifact_without_its_record_is_refused(model_file):
    digest_path(model_file).unlink()
    with pytest.raises(ArtifactIntegrityError, match="no recorded SHA256"):
        load_artifact(model_file)


def test_saving_records_the_digest_of_the_bytes_written(tmp_path):
    save_artifact(tmp_path / "a.pt", {"x": torch.arange(3)})
    save_artifact(tmp_path / "b.pt", {"x": torch.arange(3)})
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    assert (
        digest_path(tmp_path / "a.pt").read_text().split()[0] == digest_path(tmp_path / "b.pt").read_text().split()[0]
    )
