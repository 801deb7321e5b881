"""Tests of advreg.data: real files, a real HTTP server on 127.0.0.1, no mocks."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import pickletools
import socket
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from advreg.artifacts import load_artifact, sha256_file
from advreg.data.cifar import UnsafePickleError, load_cifar10, write_cifar_batches
from advreg.data.idx import load_idx_dataset, read_idx, write_idx
from advreg.data.npz import NpzFormatError, load_npz_dataset
from advreg.data.prepare import DatasetChecksumError, load_dataset, prepare_dataset
from advreg.data.registry import (
    ARRAY_ROLES,
    DATASETS,
    MEMBER_MD5,
    PENDING,
    DatasetSpec,
    array_digest,
    dataset_specs,
    get_spec,
)
from advreg.data.sources import DownloadError, download, find_local
from advreg.params import ConfigError

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = get_spec("mnist").files


# ----------------------------------------------------------------------------------------------- helpers


def tiny_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """Small IDX-style arrays: images uint8 (N,H,W), labels uint8 (N,)."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, size=(12, 4, 5), dtype=np.uint8),
        "train_labels": (np.arange(12) % 3).astype(np.uint8),
        "test_images": rng.integers(0, 256, size=(3, 4, 5), dtype=np.uint8),
        "test_labels": np.array([2, 0, 1], dtype=np.uint8),
    }


def decoded(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What load_idx_dataset makes of tiny_arrays: images (N,H,W,1), labels int64."""
    return {role: a[..., None] if role.endswith("images") else a.astype(np.int64) for role, a in arrays.items()}


def digests_of(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    return {role: array_digest(a) for role, a in decoded(arrays).items()}


def write_idx_folder(
    folder: Path, arrays: dict[str, np.ndarray], compress: bool = True, raw_names: bool = False
) -> Path:
    """The four IDX files under their registry names (``.gz`` names unless ``raw_names``)."""
    for role, file_name in IDX_FILES.items():
        name = file_name[: -len(".gz")] if raw_names else file_name
        write_idx(folder / name, arrays[role], compress=compress)
    return folder


def tiny_spec(**changes) -> DatasetSpec:
    """An IDX spec shaped for tiny_arrays, with nothing pinned and no mirrors or system dirs."""
    base = dataclasses.replace(
        get_spec("mnist"),
        name="tiny",
        file_md5={},
        mirrors=(),
        system_dirs=(),
        digests={role: PENDING for role in ARRAY_ROLES},
        shapes={
            "train_images": (12, 4, 5, 1),
            "train_labels": (12,),
            "test_images": (3, 4, 5, 1),
            "test_labels": (3,),
        },
        class_names=("a", "b", "c"),
    )
    return dataclasses.replace(base, **changes)


def quiet(_msg: str) -> None:
    pass


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def http_root(tmp_path, monkeypatch):
    """A real HTTP server on 127.0.0.1 serving a temp folder; yields (folder, base URL)."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# ---------------------------------------------------------------------------------------------- registry


def test_registry_entries_are_consistent():
    assert set(DATASETS) == {"mnist", "fashion_mnist", "cifar10"}
    for name, spec in DATASETS.items():
        assert spec.name == name and spec.format in ("idx", "cifar_python")
        assert set(spec.digests) == set(ARRAY_ROLES) == set(spec.shapes)
        assert len(spec.class_names) == 10
        assert set(spec.file_md5) <= set(spec.files)
    assert all(d != PENDING and len(d) == 64 for d in get_spec("fashion_mnist").digests.values())


def test_unknown_dataset_names_it_and_the_known_ones():
    with pytest.raises(ValueError, match=r"'svhn'.*cifar10, fashion_mnist, mnist"):
        get_spec("svhn")


# --------------------------------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("compress", [True, False])
def test_idx_round_trip(tmp_path, compress):
    arrays = tiny_arrays()
    for role in ("train_images", "train_labels"):
        path = write_idx(tmp_path / f"{role}.idx", arrays[role], compress=compress)
        assert (path.read_bytes()[:2] == b"\x1f\x8b") is compress
        back = read_idx(path)
        assert back.dtype == np.uint8 and back.flags.writeable
        np.testing.assert_array_equal(back, arrays[role])


def _raw_idx_bytes(tmp_path: Path) -> bytes:
    path = write_idx(tmp_path / "src.idx", tiny_arrays()["train_images"], compress=False)
    return path.read_bytes()


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda b: b[:-1], "truncated payload"),
        (lambda b: b[:10], "truncated header"),
        (lambda b: b + b"\x00\x00", "2 trailing bytes"),
        (lambda b: b"\x00\x00\x08\x05" + b[4:], "bad magic"),
        (lambda b: b"\x00\x00\x0d\x03" + b[4:], "data type 0x0d"),
        (lambda b: gzip.compress(b, mtime=0)[:-20], "corrupt gzip"),
    ],
    ids=["truncated", "short-header", "trailing", "bad-magic", "float-type", "truncated-gzip"],
)
def test_idx_rejects_bad_files_naming_them(tmp_path, corrupt, message):
    bad = tmp_path / "bad-file-idx3-ubyte"
    bad.write_bytes(corrupt(_raw_idx_bytes(tmp_path)))
    with pytest.raises(ValueError, match=message) as info:
        read_idx(bad)
    assert str(bad) in str(info.value)


def test_write_idx_refuses_other_dtypes(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_idx(tmp_path / "x.idx", np.zeros((2, 3, 3), dtype=np.float32))


def test_load_idx_dataset_shapes_and_count_check(tmp_path):
    arrays = tiny_arrays()
    folder = write_idx_folder(tmp_path / "ok", arrays)
    out = load_idx_dataset({role: folder / name for role, name in IDX_FILES.items()})
    assert out["train_images"].shape == (12, 4, 5, 1) and out["train_images"].dtype == np.uint8
    assert out["test_labels"].dtype == np.int64
    for role, expected in decoded(arrays).items():
        np.testing.assert_array_equal(out[role], expected)

    arrays["test_labels"] = arrays["test_labels"][:2]
    folder = write_idx_folder(tmp_path / "bad", arrays)
    with pytest.raises(ValueError, match="3 images but .*t10k-labels-idx1-ubyte.gz holds 2 labels"):
        load_idx_dataset({role: folder / name for role, name in IDX_FILES.items()})


# ------------------------------------------------------------------------------------------------- CIFAR


def cifar_arrays(seed: int = 1):
    rng = np.random.default_rng(seed)
    train = (rng.integers(0, 256, size=(20, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, size=20))
    test = (rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8), np.array([9, 0, 4]))
    return train, test


@pytest.mark.parametrize("as_tar", [False, True])
def test_cifar_round_trip_folder_and_tar(tmp_path, as_tar):
    train, test = cifar_arrays()
    target = tmp_path / ("cifar-10-python.tar.gz" if as_tar else "extracted")
    written = write_cifar_batches(target, train, test)
    if not as_tar:  # written like the Python 2 originals: byte strings, numpy.core.multiarray._reconstruct
        ops = [(op.name, arg) for op, arg, _ in pickletools.genops((written / "data_batch_1").read_bytes())]
        assert ("GLOBAL", "numpy.core.multiarray _reconstruct") in ops
        assert not [name for name, _ in ops if "UNICODE" in name]
    for source in [written] if as_tar else [written, tmp_path / "extracted"]:  # batch folder or its parent
        out = load_cifar10(source)
        assert out["train_images"].shape == (20, 32, 32, 3) and out["train_images"].dtype == np.uint8
        assert out["train_images"].flags.c_contiguous
        assert out["train_labels"].dtype == np.int64 and out["test_labels"].dtype == np.int64
        np.testing.assert_array_equal(out["train_images"], train[0])  # batches 1..5 concatenated in order
        np.testing.assert_array_equal(out["train_labels"], train[1])
        np.testing.assert_array_equal(out["test_images"], test[0])
        np.testing.assert_array_equal(out["test_labels"], test[1])


def _batch(data: np.ndarray, labels: list[int]) -> bytes:
    return pickle.dumps({b"batch_label": b"x", b"labels": labels, b"data": data}, protocol=4)  # modern pickle


def _hand_made_folder(folder: Path, test_bytes: bytes | None = None) -> Path:
    """A batch folder written without write_cifar_batches; pixel (row 1, col 2) of image 0 is RGB (10,20,30)."""
    folder.mkdir(parents=True)
    data = np.zeros((1, 3072), dtype=np.uint8)
    data[0, 0 * 1024 + 1 * 32 + 2] = 10  # channel-major: R plane, then G, then B; each row-major 32x32
    data[0, 1 * 1024 + 1 * 32 + 2] = 20
    data[0, 2 * 1024 + 1 * 32 + 2] = 30
    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(_batch(data, [i]))
    (folder / "test_batch").write_bytes(test_bytes if test_bytes is not None else _batch(data, [7]))
    return folder


def test_cifar_channel_major_to_hwc(tmp_path):
    out = load_cifar10(_hand_made_folder(tmp_path / "cifar-10-batches-py"))
    assert out["train_images"].shape == (5, 32, 32, 3)
    assert out["train_images"][0, 1, 2].tolist() == [10, 20, 30]
    assert int(out["train_images"].astype(np.int64).sum()) == 5 * 60
    assert out["train_labels"].tolist() == [1, 2, 3, 4, 5]


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_cifar_refuses_malicious_pickle(tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps({b"data": _Evil(marker), b"labels": [0]}, protocol=4)
    folder = _hand_made_folder(tmp_path / "cifar-10-batches-py", test_bytes=evil)
    with pytest.raises(UnsafePickleError, match=r"refusing to unpickle global (posix|os|nt)\.system") as info:
        load_cifar10(folder)
    assert "test_batch" in str(info.value)
    assert not marker.exists()


def test_cifar_refuses_unsafe_tar_members(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(ValueError, match=r"unsafe member name '\.\./escape'"):
        load_cifar10(archive)


def test_cifar_missing_batch_named(tmp_path):
    train, test = cifar_arrays()
    archive = write_cifar_batches(tmp_path / "c.tar.gz", train, test, batches=4)
    with pytest.raises(ValueError, match="missing member.*data_batch_5"):
        load_cifar10(archive)


# --------------------------------------------------------------------------------------------- find_local


def test_find_local_order_and_variants(tmp_path):
    spec, arrays = tiny_spec(), tiny_arrays()
    system = write_idx_folder(tmp_path / "system", arrays, compress=False, raw_names=True)  # un-gzipped names
    user = tmp_path / "user"
    assert find_local(spec, user, [str(system)]) == (system, {r: system / n[:-3] for r, n in IDX_FILES.items()})

    write_idx_folder(user, arrays)
    assert find_local(spec, user, [str(system)])[0] == user
    write_idx_folder(user / "tiny", arrays)
    assert find_local(spec, user, [str(system)])[0] == user / "tiny"

    (user / "tiny" / IDX_FILES["test_labels"]).unlink()  # incomplete folders never qualify
    assert find_local(spec, user, [str(system)])[0] == user
    assert find_local(spec, tmp_path / "nowhere", []) is None

    cifar = dataclasses.replace(get_spec("cifar10"), system_dirs=())
    extracted = tmp_path / "cifar"
    write_cifar_batches(extracted, *cifar_arrays())
    assert find_local(cifar, extracted, []) == (extracted, {"archive": extracted / "cifar-10-batches-py"})


# -------------------------------------------------------------------------------------------- prepare


def test_prepare_from_local_dir_and_load_back(tmp_path):
    arrays = tiny_arrays()
    folder = write_idx_folder(tmp_path / "local" / "tiny", arrays)
    out = tmp_path / "out" / "tiny.pt"
    logged: list[str] = []
    summary = prepare_dataset(
        tiny_spec(),
        out,
        local_dir=tmp_path / "local",
        download_dir=tmp_path / "dl",
        expected_digests=digests_of(arrays),
        log=logged.append,
    )
    assert summary["source"] == str(folder) and any(str(folder) in line for line in logged)
    assert summary["shapes"]["train_images"] == (12, 4, 5, 1)
    data = load_dataset(out, verify=True)
    assert "source" not in data and data["name"] == "tiny" and data["class_names"] == ["a", "b", "c"]
    assert data["digests"] == digests_of(arrays) == summary["digests"]
    for role, expected in decoded(arrays).items():
        assert data[role].dtype == (torch.uint8 if role.endswith("images") else torch.int64)
        np.testing.assert_array_equal(data[role].numpy(), expected)
    assert not (tmp_path / "dl").exists()  # nothing downloaded


def test_prepare_cifar_from_tarball(tmp_path):
    (train_images, train_labels), (test_images, test_labels) = cifar_arrays()
    write_cifar_batches(
        tmp_path / "local" / "cifar-10-python.tar.gz", (train_images, train_labels), (test_images, test_labels)
    )
    expected = {
        "train_images": array_digest(train_images),
        "train_labels": array_digest(train_labels.astype(np.int64)),
        "test_images": array_digest(test_images),
        "test_labels": array_digest(test_labels.astype(np.int64)),
    }
    spec = dataclasses.replace(
        get_spec("cifar10"),
        system_dirs=(),
        mirrors=(),
        member_md5={},
        shapes={
            "train_images": (20, 32, 32, 3),
            "train_labels": (20,),
            "test_images": (3, 32, 32, 3),
            "test_labels": (3,),
        },
    )
    out = tmp_path / "cifar10.pt"
    summary = prepare_dataset(
        spec, out, local_dir=tmp_path / "local", download_dir=tmp_path / "dl", expected_digests=expected, log=quiet
    )
    assert summary["source"] == str(tmp_path / "local")
    data = load_dataset(out, verify=True)
    assert data["class_names"][0] == "airplane" and tuple(data["train_images"].shape) == (20, 32, 32, 3)
    np.testing.assert_array_equal(data["train_images"].numpy(), train_images)


def test_cifar_batch_md5_pins_vouch_for_images(tmp_path):
    """Images pinned as MEMBER_MD5 pass when every batch file matches its MD5, and fail when one does not."""
    (train_images, train_labels), (test_images, test_labels) = cifar_arrays()
    folder = write_cifar_batches(tmp_path / "local", (train_images, train_labels), (test_images, test_labels))
    md5 = {
        f.name: hashlib.md5(f.read_bytes()).hexdigest()
        for f in folder.iterdir()
        if f.name.startswith(("data_batch_", "test_batch"))
    }
    assert len(md5) == 6
    spec = dataclasses.replace(
        get_spec("cifar10"),
        system_dirs=(),
        mirrors=(),
        member_md5=md5,
        digests={
            "train_images": MEMBER_MD5,
            "test_images": MEMBER_MD5,
            "train_labels": array_digest(train_labels.astype(np.int64)),
            "test_labels": array_digest(test_labels.astype(np.int64)),
        },
        shapes={
            "train_images": (20, 32, 32, 3),
            "train_labels": (20,),
            "test_images": (3, 32, 32, 3),
            "test_labels": (3,),
        },
    )
    out = tmp_path / "cifar10.pt"
    prepare_dataset(spec, out, local_dir=tmp_path / "local", download_dir=tmp_path / "dl", log=quiet)
    np.testing.assert_array_equal(load_dataset(out)["test_images"].numpy(), test_images)
    bad = dataclasses.replace(spec, member_md5=md5 | {"data_batch_3": "0" * 32})
    out2 = tmp_path / "cifar10_bad.pt"
    with pytest.raises(DatasetChecksumError, match=r"data_batch_3: MD5 [0-9a-f]{32}, expected 0{32}"):
        prepare_dataset(bad, out2, local_dir=tmp_path / "local", download_dir=tmp_path / "dl", log=quiet)
    assert not out2.exists()


def test_registry_pins_mnist_and_cifar_labels():
    mnist = get_spec("mnist")
    assert all(len(d) == 64 for d in mnist.digests.values())
    cifar = get_spec("cifar10")
    assert cifar.digests["train_images"] == MEMBER_MD5 and len(cifar.member_md5) == 6
    assert len(cifar.digests["train_labels"]) == 64


def test_prepare_wrong_digest_writes_nothing(tmp_path):
    arrays = tiny_arrays()
    write_idx_folder(tmp_path / "local", arrays)
    expected = digests_of(arrays) | {"test_labels": "0" * 64}
    out = tmp_path / "out" / "tiny.pt"
    with pytest.raises(DatasetChecksumError) as info:
        prepare_dataset(
            tiny_spec(),
            out,
            local_dir=tmp_path / "local",
            download_dir=tmp_path / "dl",
            expected_digests=expected,
            log=quiet,
        )
    message = str(info.value)
    assert "'tiny'" in message and "test_labels" in message and "0" * 64 in message
    assert digests_of(arrays)["test_labels"] in message and str(tmp_path / "local") in message
    assert "train_images" not in message
    assert not out.exists() and not out.parent.exists()
    assert sorted(p.name for p in (tmp_path / "local").iterdir()) == sorted(IDX_FILES.values())  # kept


def test_prepare_wrong_shape_fails(tmp_path):
    arrays = tiny_arrays()
    write_idx_folder(tmp_path / "local", arrays)
    spec = tiny_spec(shapes=tiny_spec().shapes | {"test_images": (3, 5, 4, 1)})
    with pytest.raises(DatasetChecksumError, match=r"test_images has shape \(3, 4, 5, 1\), expected \(3, 5, 4, 1\)"):
        prepare_dataset(
            spec,
            tmp_path / "o.pt",
            local_dir=tmp_path / "local",
            download_dir=tmp_path / "dl",
            expected_digests=digests_of(arrays),
            log=quiet,
        )
    assert not (tmp_path / "o.pt").exists()


def test_prepare_pending_pins_fail_clearly(tmp_path):
    arrays = tiny_arrays()
    write_idx_folder(tmp_path / "local", arrays)
    out = tmp_path / "tiny.pt"
    with pytest.raises(DatasetChecksumError, match=r"no SHA256 pinned.*'PENDING'") as info:
        prepare_dataset(tiny_spec(), out, local_dir=tmp_path / "local", download_dir=tmp_path / "dl", log=quiet)
    assert digests_of(arrays)["train_images"] in str(info.value)  # so the pins can be filled in
    assert not out.exists()
    # a partial override still leaves the other arrays unpinned
    with pytest.raises(DatasetChecksumError, match="train_labels, test_images, test_labels"):
        prepare_dataset(
            tiny_spec(),
            out,
            local_dir=tmp_path / "local",
            download_dir=tmp_path / "dl",
            log=quiet,
            expected_digests={"train_images": digests_of(arrays)["train_images"]},
        )
    assert not out.exists()


def test_prepare_is_bit_identical(tmp_path):
    arrays = tiny_arrays()
    write_idx_folder(tmp_path / "local", arrays)
    outs = [tmp_path / "a" / "tiny.pt", tmp_path / "b" / "tiny.pt"]
    for out in outs:
        prepare_dataset(
            tiny_spec(),
            out,
            local_dir=tmp_path / "local",
            download_dir=tmp_path / "dl",
            expected_digests=digests_of(arrays),
            log=quiet,
        )
    assert sha256_file(outs[0]) == sha256_file(outs[1])


def test_load_dataset_rejects_other_artifacts(tmp_path):
    from advreg.artifacts import save_artifact

    path = tmp_path / "model.pt"
    save_artifact(path, {"state_dict": {}})
    with pytest.raises(ValueError, match=f"{path} is not an advreg dataset artifact: missing key"):
        load_dataset(path)


# ------------------------------------------------------------------------------------------ download


def test_download_falls_back_to_the_next_mirror(http_root, tmp_path):
    root, base = http_root
    good = write_idx_folder(root / "good", tiny_arrays())
    md5 = hashlib.md5((good / IDX_FILES["train_images"]).read_bytes()).hexdigest()
    spec = tiny_spec(file_md5={"train_images": md5})  # pinned and correct: accepted
    dest = tmp_path / "dest"
    paths = download(spec, dest, mirrors=[base + "missing/", base + "good"], timeout=5)  # no trailing slash: ok
    assert paths == {role: dest / name for role, name in IDX_FILES.items()}
    for role, name in IDX_FILES.items():
        assert paths[role].read_bytes() == (good / name).read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == sorted(IDX_FILES.values())  # no temp files left


def test_download_rejects_md5_mismatch(http_root, tmp_path):
    root, base = http_root
    good = write_idx_folder(root / "good", tiny_arrays())
    write_idx_folder(root / "bad", tiny_arrays(seed=7))  # a "broken mirror": other content
    md5 = {role: hashlib.md5((good / name).read_bytes()).hexdigest() for role, name in IDX_FILES.items()}
    spec = tiny_spec(file_md5=md5)

    paths = download(spec, tmp_path / "ok", mirrors=[base + "bad/", base + "good/"], timeout=5)
    assert paths["train_images"].read_bytes() == (good / IDX_FILES["train_images"]).read_bytes()

    dest = tmp_path / "rejected"
    with pytest.raises(DownloadError, match="MD5 mismatch") as info:
        download(spec, dest, mirrors=[base + "bad/"], timeout=5)
    assert f"{base}bad/train-images-idx3-ubyte.gz" in str(info.value)
    assert not dest.exists()  # neither the bad file nor a temp file (nor the folder this call made)
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(DownloadError):
        download(spec, kept, mirrors=[base + "bad/"], timeout=5)
    assert list(kept.iterdir()) == []  # a folder that already existed stays, empty


def test_download_all_mirrors_failing_lists_each_url(http_root, tmp_path):
    _, base = http_root
    dead = closed_port_url()
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError) as info:
        download(tiny_spec(), dest, mirrors=[base + "missing/", dead], timeout=5)
    message = str(info.value)
    assert f"{base}missing/train-images-idx3-ubyte.gz: HTTP 404" in message
    assert f"{dead}train-images-idx3-ubyte.gz: ConnectionRefusedError" in message
    assert "data.local_dir" in message
    assert not dest.exists()  # the folder this call created is gone again


def test_prepare_downloads_and_removes_bad_downloads(http_root, tmp_path):
    root, base = http_root
    arrays = tiny_arrays()
    write_idx_folder(root / "m", arrays)
    kwargs = dict(local_dir=tmp_path / "empty", download_dir=tmp_path / "dl", mirrors=[base + "m/"], log=quiet)

    bad = digests_of(arrays) | {"train_images": "f" * 64}
    with pytest.raises(DatasetChecksumError, match="train_images"):
        prepare_dataset(tiny_spec(), tmp_path / "x.pt", expected_digests=bad, **kwargs)
    assert not (tmp_path / "x.pt").exists() and not (tmp_path / "dl" / "tiny").exists()

    summary = prepare_dataset(tiny_spec(), tmp_path / "x.pt", expected_digests=digests_of(arrays), **kwargs)
    assert summary["source"] == f"download:{base}m/"
    assert load_dataset(tmp_path / "x.pt")["digests"] == digests_of(arrays)
    # the verified download is reused from download_dir/<name>/ next time, without the network
    again = prepare_dataset(
        tiny_spec(), tmp_path / "y.pt", expected_digests=digests_of(arrays), **(kwargs | {"mirrors": []})
    )
    assert again["source"] == str(tmp_path / "dl" / "tiny")


def test_mirrors_with_different_compression_decode_identically(http_root, tmp_path):
    root, base = http_root
    arrays = tiny_arrays()
    write_idx_folder(root / "gz", arrays, compress=True)
    write_idx_folder(root / "raw", arrays, compress=False)  # raw bytes under the .gz names
    outs = []
    for mirror in ("gz", "raw"):
        paths = download(tiny_spec(), tmp_path / mirror, mirrors=[f"{base}{mirror}/"], timeout=5)
        assert {role: array_digest(a) for role, a in load_idx_dataset(paths).items()} == digests_of(arrays)
        out = tmp_path / f"{mirror}.pt"
        prepare_dataset(
            tiny_spec(),
            out,
            download_dir=tmp_path / f"dl-{mirror}",
            mirrors=[f"{base}{mirror}/"],
            expected_digests=digests_of(arrays),
            log=quiet,
        )
        outs.append(out)
    name = IDX_FILES["train_images"]
    assert (root / "gz" / name).read_bytes() != (root / "raw" / name).read_bytes()
    assert sha256_file(outs[0]) == sha256_file(outs[1])


# ------------------------------------------------------------------------------------ real Fashion-MNIST


def test_real_fashion_mnist(tmp_path):
    if not FASHION_DIR.is_dir():
        pytest.skip("Debian package dataset-fashion-mnist not installed (apt-get install dataset-fashion-mnist)")
    out = tmp_path / "fashion_mnist.pt"
    summary = prepare_dataset("fashion_mnist", out, download_dir=tmp_path / "dl", mirrors=[], log=quiet)
    again = tmp_path / "again" / "fashion_mnist.pt"  # a second run: bit-identical file
    prepare_dataset("fashion_mnist", again, download_dir=tmp_path / "dl", mirrors=[], log=quiet)
    assert sha256_file(out) == sha256_file(again)
    assert summary["source"] == str(FASHION_DIR)
    assert summary["digests"] == get_spec("fashion_mnist").digests
    data = load_artifact(out)
    assert tuple(data["train_images"].shape) == (60000, 28, 28, 1)
    assert tuple(data["test_images"].shape) == (10000, 28, 28, 1)
    assert data["train_images"].dtype == torch.uint8 and data["train_labels"].dtype == torch.int64
    assert torch.bincount(data["train_labels"]).tolist() == [6000] * 10
    assert torch.bincount(data["test_labels"]).tolist() == [1000] * 10
    assert data["class_names"][0] == "T-shirt/top" and data["class_names"][9] == "Ankle boot"


# ------------------------------------------------------------------------------------------ checksum pins


def test_member_md5_marker_needs_member_md5s(tmp_path):
    """The MEMBER_MD5 marker vouches for nothing without member MD5s: refused, and nothing is written."""
    (train_images, train_labels), (test_images, test_labels) = cifar_arrays()
    write_cifar_batches(tmp_path / "local", (train_images, train_labels), (test_images, test_labels))
    spec = dataclasses.replace(get_spec("cifar10"), system_dirs=(), mirrors=(), member_md5={}, shapes={})
    out = tmp_path / "cifar10.pt"
    with pytest.raises(DatasetChecksumError, match=r"no MD5 is pinned for member file\(s\) data_batch_1"):
        prepare_dataset(spec, out, local_dir=tmp_path / "local", download_dir=tmp_path / "dl", log=quiet)
    assert not out.exists()


def test_member_md5_marker_is_refused_where_no_member_is_checked(tmp_path):
    """An IDX dataset has no member files: expected digests of "member-md5" must not skip the check."""
    write_idx_folder(tmp_path / "local", tiny_arrays())
    out = tmp_path / "tiny.pt"
    with pytest.raises(DatasetChecksumError, match=r"pinned as 'member-md5', but the 'idx' format"):
        prepare_dataset(
            tiny_spec(),
            out,
            local_dir=tmp_path / "local",
            download_dir=tmp_path / "dl",
            expected_digests={role: MEMBER_MD5 for role in ARRAY_ROLES},
            log=quiet,
        )
    assert not out.exists()


# ------------------------------------------------------------------------------------ a config's own datasets


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """Save ``arrays`` as an .npz dataset; return the digests a config pins for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    images = {k: v[..., None] if v.ndim == 3 else v for k, v in arrays.items() if k.endswith("images")}
    labels = {k: v.astype(np.int64) for k, v in arrays.items() if k.endswith("labels")}
    return {role: array_digest({**images, **labels}[role]) for role in ARRAY_ROLES}


def test_a_config_declares_its_own_npz_dataset(tmp_path):
    digests = write_npz(tmp_path / "mine" / "subset.npz", tiny_arrays())
    declared = {"format": "npz", "dir": str(tmp_path / "mine"), "digests": digests}
    specs = dataset_specs({"subset": declared})
    out = tmp_path / "subset.pt"
    summary = prepare_dataset(specs["subset"], out, download_dir=tmp_path / "dl", log=quiet)
    assert summary["source"] == str(tmp_path / "mine")
    data = load_dataset(out, verify=True)
    assert data["class_names"] == ["0", "1", "2"]  # derived from the labels
    assert tuple(data["train_images"].shape) == (12, 4, 5, 1)
    # a wrong pin names the array and writes nothing
    bad = dataset_specs({"subset": {**declared, "digests": {**digests, "test_labels": "0" * 64}}})["subset"]
    out2 = tmp_path / "bad.pt"
    with pytest.raises(DatasetChecksumError, match="SHA256 mismatch for array\\(s\\) test_labels"):
        prepare_dataset(bad, out2, download_dir=tmp_path / "dl", log=quiet)
    assert not out2.exists()
    # nothing pinned: refused, naming the config keys to set, with the digests to pin
    pending = dataset_specs({"subset": {**declared, "digests": {}}})["subset"]
    with pytest.raises(DatasetChecksumError, match=digests["train_images"]) as info:
        prepare_dataset(pending, out2, download_dir=tmp_path / "dl", log=quiet)
    assert "set these keys in your config (datasets.subset.digests.<array>)" in str(info.value)
    assert f"    digests:\n      train_images: {digests['train_images']}" in str(info.value)
    assert "registry.py" not in str(info.value)
    # a folder without the file: the error names the folder
    empty = dataset_specs({"subset": {**declared, "dir": str(tmp_path / "nowhere")}})["subset"]
    with pytest.raises(DownloadError, match="nowhere"):
        prepare_dataset(empty, out2, download_dir=tmp_path / "dl", log=quiet)
    assert not out2.exists()


def test_a_config_declares_its_own_idx_dataset_with_class_names(tmp_path):
    arrays = tiny_arrays()
    write_idx_folder(tmp_path / "idx", arrays)
    pins = {role: array_digest(a) for role, a in decoded(arrays).items()}
    spec = dataset_specs(
        {"digits3": {"format": "idx", "dir": str(tmp_path / "idx"), "classes": ["a", "b", "c"], "digests": pins}}
    )["digits3"]
    prepare_dataset(spec, tmp_path / "d.pt", download_dir=tmp_path / "dl", log=quiet)
    assert load_dataset(tmp_path / "d.pt")["class_names"] == ["a", "b", "c"]


def test_declared_datasets_are_checked_by_name(tmp_path):
    with pytest.raises(ConfigError, match="datasets.mnist: 'mnist' is a built-in dataset"):
        dataset_specs({"mnist": {"dir": "x"}})
    with pytest.raises(ConfigError, match="datasets.mine.dir: name the folder"):
        dataset_specs({"mine": {}})
    with pytest.raises(ConfigError, match=r"datasets.mine.format: must be one of \['npz', 'idx'\]"):
        dataset_specs({"mine": {"dir": "x", "format": "csv"}})


def test_npz_files_with_pickles_or_wrong_arrays_are_refused(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, train_images=np.zeros((2, 3, 3), np.uint8))
    with pytest.raises(NpzFormatError, match="missing array"):
        load_npz_dataset(path)
    np.savez(path, **{**tiny_arrays(), "train_labels": np.array([object()] * 12, dtype=object)})
    with pytest.raises(NpzFormatError, match="without pickled objects"):
        load_npz_dataset(path)
    np.savez(path, **{**tiny_arrays(), "test_images": np.zeros((3, 4, 5), np.float32)})
    with pytest.raises(NpzFormatError, match="test_images must be uint8"):
        load_npz_dataset(path)
