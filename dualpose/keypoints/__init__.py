"""2D keypoint files from common detectors (COCO, MMPose, AlphaPose, numpy) and their
conversion to the H36M-17 joint set the lifting models use."""
from .converters import (COCO17_JOINTS, H36M_JOINTS, HALPE26_JOINTS, JOINT_SETS,
                         NTU25_JOINTS, Coco17ToH36m, H36mToH36m, Halpe26ToH36m,
                         JointSetConverter, Ntu25ToH36m, build_converter)
from .checks import check_image_size, check_keypoints
from .readers import (FORMATS, KeypointReader, KeypointSequence, KeypointTracks,
                      available_formats, guess_joint_set, read_keypoints, read_people)
from .tracking import TRACKING_METHODS, track_detections

__all__ = [
    'COCO17_JOINTS', 'H36M_JOINTS', 'HALPE26_JOINTS', 'JOINT_SETS', 'Coco17ToH36m',
    'H36mToH36m', 'Halpe26ToH36m', 'JointSetConverter', 'build_converter', 'FORMATS',
    'KeypointSequence', 'guess_joint_set', 'read_keypoints', 'KeypointReader',
    'available_formats', 'check_image_size', 'check_keypoints', 'KeypointTracks',
    'read_people', 'track_detections', 'TRACKING_METHODS', 'NTU25_JOINTS', 'Ntu25ToH36m'
]
