"""Action labels on Human3.6M-layout clips: the synthetic default's movement families as classes."""
from typing import Dict, List, Optional, Sequence

import numpy as np

from dualpose.registry import DATASETS
from ..synthetic import ACTION_NAMES, FAMILY_NAMES, own_family_frames
from .h36m import Human36mDataset

# the ``action`` the synthetic generator v2 writes for each movement family, in family order
# (Locomotion, Posture, UpperBody, Kick, Jump, Floor): the classes of the embedded default
SYNTHETIC_ACTION_CLASSES = tuple(ACTION_NAMES[f] for f in FAMILY_NAMES)


def check_classes(classes: Sequence[str], owner: str) -> List[str]:
    """``classes`` as a list of distinct names; a clear error for an empty or repeated list."""
    if isinstance(classes, str) or not classes:
        raise ValueError(f'{owner}: classes must be a non-empty list of action names, got '
                         f'{classes!r}')
    classes = [str(c) for c in classes]
    repeated = sorted({c for c in classes if classes.count(c) > 1})
    if repeated:
        raise ValueError(f'{owner}: classes {repeated} are listed more than once')
    return classes


@DATASETS.register_module()
class Human36mActionDataset(Human36mDataset):
    """Clips of a Human3.6M-layout pickle, each labelled with its video's ``action``.

    On the synthetic default the action of a recording is its movement family
    (``Locomotion``, ``Posture``, ``UpperBody``, ``Kick``, ``Jump``, ``Floor``), so the classes
    are the six families. A synthetic recording may move on to other families after its first
    half (generator v2's transitions): with ``first_segment=True`` only the frames certain to
    show the recording's own family are cut into clips
    (:func:`dualpose.datasets.synthetic.own_family_frames`: the first half less half the
    longest cross-fade), so that every clip's label is right. Real Human3.6M recordings keep
    one action throughout: leave it False there.

    Everything else is :class:`Human36mDataset` (``subjects``, ``holdout``, ``stride``,
    ``use_gt_2d``, the checks of the file); each clip also carries ``action_label``, the index
    of its action in ``classes``, and the metainfo gets ``classes``.

    Args:
        classes (Sequence[str]): action names in label order (default the six synthetic
            families); every video's action must be one of them. Train, validation and test
            datasets take the same list, so labels mean the same everywhere.
        first_segment (bool): keep only the leading frames of each video that surely show
            its own family (synthetic data); videos left shorter than ``seq_len`` are
            dropped.
        clips_per_class (int, optional): keep this many clips of each class (a fixed small
            number of labels), drawn by ``label_seed``; None keeps all.
        label_seed (int): seed of that draw.
    """

    def __init__(self, ann_file: str, classes: Sequence[str] = SYNTHETIC_ACTION_CLASSES,
                 first_segment: bool = False, clips_per_class: Optional[int] = None,
                 label_seed: int = 0, **kwargs):
        self.classes = check_classes(classes, type(self).__name__)
        self.first_segment = bool(first_segment)
        if clips_per_class is not None and (isinstance(clips_per_class, bool) or
                                            int(clips_per_class) != clips_per_class or
                                            clips_per_class < 1):
            raise ValueError(f'clips_per_class must be an integer >= 1 or None, got '
                             f'{clips_per_class!r}')
        self.clips_per_class = clips_per_class
        self.label_seed = int(label_seed)
        super().__init__(ann_file=ann_file, **kwargs)
        self._metainfo['classes'] = list(self.classes)

    def load_arrays(self) -> Dict[str, np.ndarray]:
        arrays = super().load_arrays()
        index = {c: i for i, c in enumerate(self.classes)}
        names, codes = np.unique(arrays['action'].astype(str), return_inverse=True)
        unknown = [n for n in names if n not in index]
        if unknown:
            first = int(np.flatnonzero(arrays['action'].astype(str) == unknown[0])[0])
            raise ValueError(
                f"{self.ann_file!r}: split '{self.split}' has actions {unknown} that are not in "
                f"classes {self.classes} (first: video {arrays['source'][first]!r}); list "
                'every action of the file in the dataset\'s classes')
        arrays['action_label'] = np.asarray([index[n] for n in names], np.int64)[codes]
        return arrays

    def select_videos(self, videos: List[np.ndarray]) -> List[np.ndarray]:
        videos = super().select_videos(videos)
        if not self.first_segment:
            return videos
        kept = [f[:own_family_frames(len(f))] for f in videos]
        kept = [f for f in kept if len(f) >= self.seq_len]
        if not kept:
            longest = max(len(f) for f in videos)
            raise ValueError(
                f"{self.ann_file!r}: first_segment=True leaves no video of split "
                f"'{self.split}' with seq_len={self.seq_len} frames (its longest video, "
                f'{longest} frames, has {own_family_frames(longest)} frames of its own family '
                'only); choose a smaller seq_len or longer recordings')
        return kept

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self.clips_per_class is None:
            return data_list
        labels = np.asarray([self._clip_label(c) for c in data_list])
        order = np.random.default_rng(self.label_seed).permutation(len(data_list))
        keep = []
        for k in range(len(self.classes)):
            keep += [int(i) for i in order if labels[i] == k][:self.clips_per_class]
        return [data_list[i] for i in sorted(keep)]

    def _clip_label(self, clip: dict) -> int:
        return int(self.arrays['action_label'][self.videos[clip['video_index']][0]])

    def frame_info(self, frames: np.ndarray) -> dict:
        info = super().frame_info(frames)
        info['action_label'] = int(self.arrays['action_label'][frames[0]])
        return info
