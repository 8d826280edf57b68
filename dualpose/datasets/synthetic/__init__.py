"""The embedded default's generator (v2): SYNTHETIC Human3.6M-layout data.

Everything it writes is SYNTHETIC: procedurally animated bodies, NOT Human3.6M and no real motion
capture; numbers measured on it say nothing about accuracy on the real benchmark. It is built to
carry over to real people: adult bodies of varied size and proportions (:mod:`.body`), a motion
prior over joint angles with anatomical limits and six movement families with transitions
(:mod:`.motion`), the real Human3.6M cameras plus optional random ones (:mod:`.cameras`),
detector-like 2D noise (:mod:`.noise`), and the MotionBERT pickle layout (:mod:`.writer`)::

    from dualpose.datasets.synthetic import write_synthetic_h36m
    write_synthetic_h36m('data/h36m_synthetic/h36m_sh_conf_cam_source_final.pkl')

Generator v1 (seven scripted actions, invented cameras) stays reachable for one release as
``generator='v1'`` (:mod:`.legacy`). This package needs numpy only.
"""
from . import legacy
from .body import LINKS, PARENTS, draw_body, forward_kinematics
from .cameras import CAMERA_RANGES, h36m_rig, random_camera
from .motion import FAMILIES, FPS, generate_motion, own_family_frames
from .noise import detect
from .writer import (ACTION_NAMES, FAMILY_NAMES, generate_synthetic_h36m, subject_number,
                     write_synthetic_h36m)

__all__ = ['generate_synthetic_h36m', 'write_synthetic_h36m', 'generate_motion', 'draw_body',
           'forward_kinematics', 'h36m_rig', 'random_camera', 'detect', 'FAMILIES',
           'FAMILY_NAMES', 'ACTION_NAMES', 'CAMERA_RANGES', 'FPS', 'LINKS', 'PARENTS',
           'subject_number', 'legacy', 'own_family_frames']
