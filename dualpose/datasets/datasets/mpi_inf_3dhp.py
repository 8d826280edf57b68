"""MPI-INF-3DHP in the common npz layout (``data_train_3dhp.npz`` / ``data_test_3dhp.npz``,
made by P-STMO's preprocessing and read as they are by MotionAGFormer and others)."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from dualpose.codecs import root_relative
from dualpose.registry import DATASETS
from .base import BaseClipDataset, check_finite, load_npz, npz_dict

MPI_HINT = ('See docs/datasets.md, "MPI-INF-3DHP", for where data_train_3dhp.npz and '
            'data_test_3dhp.npz come from.')
# test sequences filmed outdoors with a 1920x1080 camera; the studio cameras are 2048x2048
MPI_SEQUENCE_SIZES = {'TS5': (1920, 1080), 'TS6': (1920, 1080)}
MPI_DEFAULT_SIZE = (2048, 2048)
_LAYOUT = {
    'test': "{'TS1': {'data_3d': (N, 17, 3) mm, 'data_2d': (N, 17, 2) pixels, "
            "'valid': (N,)}, ...}",
    'train': "{'S1 Seq1': [{camera: {'data_3d': (N, 17, 3) mm, 'data_2d': (N, 17, 2) "
             "pixels}}], ...}",
}


@DATASETS.register_module()
class MpiInf3dhpDataset(BaseClipDataset):
    """Clips of MPI-INF-3DHP sequences (17 joints, root 14: the pelvis).

    File layout (``np.load(f, allow_pickle=True)['data'].item()``):

    - test: ``{'TS1': {'data_3d', 'data_2d', 'valid'}, ..., 'TS6': ...}``: one video per test
      sequence; ``valid`` (N,) flags the frames the protocol scores.
    - train: ``{'S1 Seq1': [{camera: {'data_3d', 'data_2d'}}], ...}``: one video per
      (sequence, camera); every frame valid.

    ``data_3d`` is camera-space 3D in millimetres, ``data_2d`` pixels. The 2D input gets
    confidence 1 (the 2D are ground truth). As in the common pipelines, the 3D label is
    normalised like the 2D, by the image width (``factor_2_5d`` = 1 mm per unit), so the
    metric's ``pred * (w / 2)`` is in millimetres.

    Args:
        ann_file (str): the npz, relative to ``data_root``.
        split (str): ``'train'`` (stride T // 3) or ``'test'`` (stride T); which layout the
            file must have.
        sequences (list[str] | None): keep only these sequences (``'TS1'``, ``'S1 Seq1'``).
        seq_len, stride, metainfo, ...: as :class:`BaseClipDataset`. The metainfo
        (``configs/_base_/datasets/mpi_inf_3dhp.py``) may give ``sequence_sizes`` {sequence:
        (w, h)} and ``default_image_size``; otherwise TS5 and TS6 are 1920x1080 and every other
        sequence 2048x2048.

    Each sample carries ``frame_valid`` (T,) so the metric skips the invalid frames; clips keep
    them as temporal context.
    """

    def __init__(self, ann_file: str, split: str = 'test', seq_len: int = 81,
                 stride: Optional[int] = None, sequences: Optional[Sequence[str]] = None,
                 **kwargs):
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        self.split = split
        self.sequences = None if sequences is None else [str(s) for s in sequences]
        super().__init__(ann_file=ann_file, seq_len=seq_len, stride=stride,
                         default_stride=max(seq_len // 3, 1) if split == 'train' else seq_len,
                         **kwargs)

    # ------------------------------------------------------------------ reading
    def _image_size(self, sequence: str) -> Tuple[float, float]:
        sizes = dict(MPI_SEQUENCE_SIZES)
        sizes.update(self.metainfo.get('sequence_sizes') or {})
        default = self.metainfo.get('default_image_size') or MPI_DEFAULT_SIZE
        w, h = sizes.get(sequence, default)
        return float(w), float(h)

    def _videos(self, path: str, data: dict) -> List[tuple]:
        """(video id, sequence, camera, record dict, key for messages) of every video."""
        videos = []
        for seq in sorted(data, key=str):
            if self.sequences is not None and str(seq) not in self.sequences:
                continue
            record = data[seq]
            if self.split == 'test':
                if not isinstance(record, dict) or 'data_3d' not in record:
                    raise ValueError(
                        f"{path!r}: data['{seq}'] is not a test-sequence record with keys "
                        f"'data_3d', 'data_2d', 'valid' (is this the training file? then "
                        f"split='train'); expected {_LAYOUT['test']}")
                videos.append((str(seq), str(seq), '', record, f"data['{seq}']"))
                continue
            cams = record[0] if isinstance(record, (list, tuple)) and record else record
            if not isinstance(cams, dict) or 'data_3d' in cams:
                raise ValueError(
                    f"{path!r}: data['{seq}'] is not a training record [{{camera: {{...}}}}] "
                    f"(is this the test file? then split='test'); expected {_LAYOUT['train']}")
            for cam in sorted(cams, key=str):
                videos.append((f'{seq} cam{cam}', str(seq), str(cam), cams[cam],
                               f"data['{seq}'][0][{cam!r}]"))
        if self.sequences is not None:
            found = {v[1] for v in videos}
            missing = [s for s in self.sequences if s not in found]
            if missing:
                raise KeyError(f'{path!r}: no sequences {missing} (it has '
                               f'{sorted(map(str, data))})')
        return videos

    def load_arrays(self) -> Dict[str, np.ndarray]:
        path = self.ann_file
        data = npz_dict(path, load_npz(path, MPI_HINT), 'data', _LAYOUT[self.split])
        j = self.metainfo['num_joints']
        parts = {k: [] for k in ('joint_2d', 'joints_2.5d_image', 'valid', 'image_size')}
        labels = {k: [] for k in ('source', 'action', 'camera_name')}
        for video_id, seq, cam, record, key in self._videos(path, data):
            missing = [k for k in ('data_3d', 'data_2d') + (('valid', ) if self.split == 'test'
                                                            else ()) if k not in record]
            if missing:
                raise KeyError(f'{path!r}: {key} lacks keys {missing}; expected '
                               f'{_LAYOUT[self.split]}')
            kp3d = np.asarray(record['data_3d'])
            kp2d = np.asarray(record['data_2d'])
            n = len(kp3d)
            if kp3d.shape != (n, j, 3):
                raise ValueError(f"{path!r}: {key}['data_3d'] has shape {kp3d.shape}, expected "
                                 f"(N, {j}, 3) ({j} joints from the metainfo "
                                 f"{self.metainfo.get('dataset_name')!r})")
            if kp2d.shape[1:] != (j, 2):
                raise ValueError(f"{path!r}: {key}['data_2d'] has shape {kp2d.shape}, expected "
                                 f'(N, {j}, 2)')
            if len(kp2d) != n:
                raise ValueError(f"{path!r}: {key}['data_2d'] has {len(kp2d)} frames but "
                                 f"{key}['data_3d'] has {n}; expected the same frames")
            valid = np.ones(n, dtype=bool)
            if 'valid' in record:
                valid = np.asarray(record['valid']).reshape(-1)
                if valid.shape != (n, ):
                    raise ValueError(f"{path!r}: {key}['valid'] has shape "
                                     f"{np.shape(record['valid'])}, expected ({n},): one flag "
                                     'per frame')
                valid = valid.astype(bool)
            parts['joint_2d'].append(kp2d)
            parts['joints_2.5d_image'].append(kp3d)
            parts['valid'].append(valid)
            parts['image_size'].append(np.tile(self._image_size(seq), (n, 1)))
            for name, value in (('source', video_id), ('action', seq), ('camera_name', cam)):
                labels[name].append(np.full(n, value, dtype=object))
        if not labels['source']:
            raise ValueError(f'{path!r}: no sequence to read')
        source = np.concatenate(labels['source'])
        arrays = dict(source=source, action=np.concatenate(labels['action']),
                      camera_name=np.concatenate(labels['camera_name']),
                      valid=np.concatenate(parts['valid']),
                      image_size=np.concatenate(parts['image_size']))
        for name, key in (('joint_2d', 'data_2d'), ('joints_2.5d_image', 'data_3d')):
            arrays[name] = check_finite(path, key, np.concatenate(parts[name]), source)
        self._check_millimetres(path, arrays['joints_2.5d_image'])
        arrays['confidence'] = np.ones(arrays['joint_2d'].shape[:2], dtype=np.float32)
        return arrays

    def _check_millimetres(self, path: str, kp3d: np.ndarray) -> None:
        root = self.metainfo['root_index']
        extent = float(np.median(np.linalg.norm(root_relative(kp3d, root), axis=-1).max(1)))
        if extent < 10:
            raise ValueError(f"{path!r}: 'data_3d' looks like metres (farthest joint "
                             f'{extent:.2f} units from the root); expected millimetres')

    def sequence_key(self, frames: np.ndarray) -> str:
        """The sequence (``'S1 Seq1'``), whichever camera filmed it."""
        return str(self.arrays['action'][frames[0]])

    # ------------------------------------------------------------------ samples
    def frame_info(self, frames: np.ndarray) -> dict:
        a = self.arrays
        first = frames[0]
        kp3d = a['joints_2.5d_image'][frames]
        return dict(
            video_id=str(a['source'][first]),
            action=str(a['action'][first]),
            camera_name=str(a['camera_name'][first]),
            image_size=tuple(a['image_size'][first]),
            keypoints_2d=a['joint_2d'][frames],
            keypoint_scores=a['confidence'][frames],
            target_3d=kp3d,
            target_mm=kp3d,
            factor_2_5d=np.ones(len(frames), dtype=np.float32),
            frame_valid=a['valid'][frames],
        )
