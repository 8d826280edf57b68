"""Joint-set converters: a 2D keypoint layout (COCO-17, Halpe-26, ...) -> the H36M-17 layout the
lifting models are trained on.

Each target joint is described by a list of *alternatives*; an alternative is a tuple of source
joints whose mean gives the target joint. Per frame, the first alternative whose source joints
are all detected (confidence > 0) is used, and the target joint's confidence is the smallest
confidence among the sources used (a synthesised joint is as reliable as its weakest source).
When no alternative is fully detected, the target joint gets confidence 0 (undetected) and the
mean of the first alternative as coordinates.

Converters are registered in ``KEYPOINT_CONVERTERS``; ``build_converter('coco17')`` or
``build_converter(dict(type='Coco17ToH36m'))`` picks one (see :data:`JOINT_SETS`).
"""
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np

from dualpose.registry import KEYPOINT_CONVERTERS

__all__ = [
    'JointSetConverter', 'Coco17ToH36m', 'Halpe26ToH36m', 'H36mToH36m', 'JOINT_SETS',
    'COCO17_JOINTS', 'HALPE26_JOINTS', 'H36M_JOINTS', 'build_converter', 'Ntu25ToH36m',
    'NTU25_JOINTS'
]

COCO17_JOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
                 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
                 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
HALPE26_JOINTS = COCO17_JOINTS + ('head', 'neck', 'hip', 'left_big_toe', 'right_big_toe',
                                  'left_small_toe', 'right_small_toe', 'left_heel', 'right_heel')
H36M_JOINTS = ('pelvis', 'right_hip', 'right_knee', 'right_ankle', 'left_hip', 'left_knee',
               'left_ankle', 'spine', 'thorax', 'neck_nose', 'head', 'left_shoulder',
               'left_elbow', 'left_wrist', 'right_shoulder', 'right_elbow', 'right_wrist')
# Kinect v2 (NTU RGB+D) body joints in file order; left/right are the subject's own sides
NTU25_JOINTS = ('spine_base', 'spine_mid', 'neck', 'head', 'left_shoulder', 'left_elbow',
                'left_wrist', 'left_hand', 'right_shoulder', 'right_elbow', 'right_wrist',
                'right_hand', 'left_hip', 'left_knee', 'left_ankle', 'left_foot', 'right_hip',
                'right_knee', 'right_ankle', 'right_foot', 'spine_shoulder', 'left_hand_tip',
                'left_thumb', 'right_hand_tip', 'right_thumb')

Alternatives = Sequence[Tuple[int, ...]]


class JointSetConverter:
    """Base class: ``converter(keypoints, scores) -> (keypoints, scores)`` in the target layout.

    Subclasses set ``source`` (joint-set name), ``source_joints`` (names, in file order) and
    ``mapping`` (one list of alternatives per target joint, in H36M order).

    Args of ``__call__``:
        keypoints: (..., J_src, 2) coordinates (any units; pixels in practice).
        scores: (..., J_src) confidences in [0, 1]; 0 means not detected.

    Returns:
        ``(keypoints (..., 17, 2) float32, scores (..., 17) float32)``.
    """

    source: str = ''
    source_joints: Tuple[str, ...] = ()
    target_joints: Tuple[str, ...] = H36M_JOINTS
    mapping: Sequence[Alternatives] = ()

    @property
    def num_source_joints(self) -> int:
        return len(self.source_joints)

    def check(self, keypoints: np.ndarray, scores: np.ndarray) -> None:
        name = type(self).__name__
        if keypoints.ndim < 2 or keypoints.shape[-1] != 2:
            raise ValueError(f'{name}: keypoints must have shape (..., J, 2), got '
                             f'{tuple(keypoints.shape)}')
        if keypoints.shape[-2] != self.num_source_joints:
            raise ValueError(
                f'{name} expects {self.num_source_joints} joints ({self.source} order: '
                f'{", ".join(self.source_joints[:3])}, ...), got {keypoints.shape[-2]}; '
                f'choose the joint set that matches the file ({", ".join(JOINT_SETS)})')
        if scores.shape != keypoints.shape[:-1]:
            raise ValueError(f'{name}: scores must have shape {tuple(keypoints.shape[:-1])} '
                             f'(one per joint), got {tuple(scores.shape)}')

    def __call__(self, keypoints, scores=None) -> Tuple[np.ndarray, np.ndarray]:
        keypoints = np.asarray(keypoints, dtype=np.float64)
        if scores is None:
            scores = np.ones(keypoints.shape[:-1])
        scores = np.asarray(scores, dtype=np.float64)
        self.check(keypoints, scores)
        out_xy = np.empty(keypoints.shape[:-2] + (len(self.mapping), 2))
        out_score = np.empty(keypoints.shape[:-2] + (len(self.mapping), ))
        for j, alternatives in enumerate(self.mapping):
            # walk the alternatives from the last to the first so that the first one that is
            # fully detected ends up written
            xy = keypoints[..., list(alternatives[0]), :].mean(-2)
            score = np.zeros(keypoints.shape[:-2])
            for alt in reversed(alternatives):
                alt_score = scores[..., list(alt)].min(-1)
                usable = alt_score > 0
                xy = np.where(usable[..., None], keypoints[..., list(alt), :].mean(-2), xy)
                score = np.where(usable, alt_score, score)
            out_xy[..., j, :] = xy
            out_score[..., j] = score
        return out_xy.astype(np.float32), out_score.astype(np.float32)

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.source} {self.num_source_joints} -> h36m 17)'


# COCO-17 source indices
_NOSE, _LEYE, _REYE, _LEAR, _REAR = 0, 1, 2, 3, 4
_LSHO, _RSHO, _LELB, _RELB, _LWRI, _RWRI = 5, 6, 7, 8, 9, 10
_LHIP, _RHIP, _LKNE, _RKNE, _LANK, _RANK = 11, 12, 13, 14, 15, 16
# Halpe-26 extra joints
_HEAD, _NECK, _HIP = 17, 18, 19

_LIMBS = {
    1: [(_RHIP, )], 2: [(_RKNE, )], 3: [(_RANK, )],
    4: [(_LHIP, )], 5: [(_LKNE, )], 6: [(_LANK, )],
    11: [(_LSHO, )], 12: [(_LELB, )], 13: [(_LWRI, )],
    14: [(_RSHO, )], 15: [(_RELB, )], 16: [(_RWRI, )],
}


def _ordered(table: Dict[int, Alternatives]) -> List[Alternatives]:
    assert sorted(table) == list(range(17)), sorted(table)
    return [table[j] for j in range(17)]


@KEYPOINT_CONVERTERS.register_module()
class Coco17ToH36m(JointSetConverter):
    """COCO-17 -> H36M-17.

    pelvis = mean of the hips; thorax = mean of the shoulders; spine = mean of pelvis and
    thorax (the mean of hips and shoulders); neck/nose = nose (else the mean of the eyes);
    head = mean of the eyes (else one eye, else the mean of the ears). COCO has no head-top
    joint, so the head is lower than Human3.6M's head joint: expect a shorter head in 3D.
    """

    source = 'coco17'
    source_joints = COCO17_JOINTS
    mapping = _ordered({
        **_LIMBS,
        0: [(_LHIP, _RHIP)],
        7: [(_LHIP, _RHIP, _LSHO, _RSHO)],
        8: [(_LSHO, _RSHO)],
        9: [(_NOSE, ), (_LEYE, _REYE)],
        10: [(_LEYE, _REYE), (_LEYE, ), (_REYE, ), (_LEAR, _REAR)],
    })


@KEYPOINT_CONVERTERS.register_module()
class Halpe26ToH36m(JointSetConverter):
    """Halpe-26 (AlphaPose) -> H36M-17.

    Uses Halpe's own joints where it has them: pelvis = ``hip`` (else the mean of the hips),
    thorax = ``neck`` (else the mean of the shoulders), head = ``head`` (head top; else the
    mean of the eyes); spine = mean of pelvis and thorax; neck/nose = nose. Feet are dropped.
    """

    source = 'halpe26'
    source_joints = HALPE26_JOINTS
    mapping = _ordered({
        **_LIMBS,
        0: [(_HIP, ), (_LHIP, _RHIP)],
        7: [(_HIP, _NECK), (_LHIP, _RHIP, _LSHO, _RSHO)],
        8: [(_NECK, ), (_LSHO, _RSHO)],
        9: [(_NOSE, ), (_LEYE, _REYE)],
        10: [(_HEAD, ), (_LEYE, _REYE), (_LEAR, _REAR)],
    })


@KEYPOINT_CONVERTERS.register_module()
class H36mToH36m(JointSetConverter):
    """Keypoints already in the H36M-17 order: passed through (shape checked)."""

    source = 'h36m'
    source_joints = H36M_JOINTS
    mapping = [[(j, )] for j in range(17)]


@KEYPOINT_CONVERTERS.register_module()
class Ntu25ToH36m(JointSetConverter):
    """NTU RGB+D (Kinect v2, 25 joints) -> H36M-17, one Kinect joint per H36M joint.

    pelvis = spine_base; spine = spine_mid; thorax = spine_shoulder; neck/nose = neck;
    head = head; hips, knees, ankles, shoulders, elbows and wrists = the Kinect joints of the
    same name and side (Kinect names sides from the subject, as Human3.6M does). Hands, hand
    tips, thumbs and feet are dropped. Kinect's head joint is the centre of the head, lower
    than Human3.6M's head top: expect a shorter head, as with COCO-17.
    """

    source = 'ntu25'
    source_joints = NTU25_JOINTS
    mapping = _ordered({
        0: [(0, )], 1: [(16, )], 2: [(17, )], 3: [(18, )], 4: [(12, )], 5: [(13, )],
        6: [(14, )], 7: [(1, )], 8: [(20, )], 9: [(2, )], 10: [(3, )], 11: [(4, )],
        12: [(5, )], 13: [(6, )], 14: [(8, )], 15: [(9, )], 16: [(10, )],
    })


#: joint-set name (as given to ``--joints`` or stored in a file) -> converter type
JOINT_SETS = {'coco17': 'Coco17ToH36m', 'halpe26': 'Halpe26ToH36m', 'h36m': 'H36mToH36m',
              'ntu25': 'Ntu25ToH36m'}


def build_converter(spec: Union[str, Dict, JointSetConverter]) -> JointSetConverter:
    """A converter from a joint-set name (``'coco17'``, ``'halpe26'``, ``'h36m'``), a registered
    type name (``'Coco17ToH36m'``), a config dict (``dict(type='Halpe26ToH36m')``) or an
    instance."""
    if isinstance(spec, JointSetConverter):
        return spec
    if isinstance(spec, str):
        spec = dict(type=JOINT_SETS.get(spec.lower(), spec))
    if not isinstance(spec, dict) or 'type' not in spec:
        raise TypeError(f'a keypoint converter is a joint-set name ({", ".join(JOINT_SETS)}), '
                        f'a registered type or a dict with "type"; got {spec!r}')
    return KEYPOINT_CONVERTERS.build(spec)
