"""What a CRL pre-training checkpoint's targets carry: the clip, or only the token's position.

    .venv/bin/python tools/analysis/crl_targets.py PRETRAIN_CONFIG CHECKPOINT [--clips 256]
        [--seed 0] [--json out.json] [--cfg-options k=v ...]

On ``--clips`` training clips drawn at random, the teacher's targets (B, T, J, C) are computed
as in training and split into the part that every clip shares at a token position (the mean
over clips at each frame, joint and channel: what the position embeddings give) and the rest.
Then the student, on masked inputs, is scored on the masked tokens against two baselines:

- ``position_share``: the fraction of the target variance that the position alone explains;
  near 1, the target says little about the motion and the pre-training task is mostly solved
  by remembering the position embeddings;
- ``student_mse``: the student's squared error on masked tokens; ``position_mse``: that of
  predicting every token's per-position mean; ``variance``: the target variance on them.
  ``clip_part_explained = 1 - student_mse / position_mse`` is how much of the clip-specific
  part the student predicts.
- ``target_std`` / ``pred_std``: as the training log's (per-channel std over masked tokens,
  averaged over channels); a collapse shows as ``pred_std`` near 0.
"""
import argparse
import json
import os.path as osp
import sys

import torch
from mmengine.config import DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from dualpose.apis.inference import load_weights  # noqa: E402
from dualpose.registry import MODELS  # noqa: E402
from dualpose.utils.config import read_config  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import study_runs as sr  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='the pre-training config (a ContextualDistiller model)')
    p.add_argument('checkpoint', help='its checkpoint (student, teacher, head)')
    p.add_argument('--clips', type=int, default=256, help='training clips to draw (256)')
    p.add_argument('--seed', type=int, default=0, help='which clips and masks (0)')
    p.add_argument('--json', help='write the statistics here too')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='key=value overrides')
    return p.parse_args(argv)


def _channel_std(x: torch.Tensor) -> float:
    """Per-channel std over the rows of x (N, C), averaged over channels."""
    return float(x.std(dim=0).mean()) if x.shape[0] > 1 else 0.0


@torch.no_grad()
def target_statistics(model, inputs: torch.Tensor) -> dict:
    """The statistics above for one batch of clips ``inputs`` (B, T, J, 3), B >= 2."""
    if inputs.shape[0] < 2:
        raise ValueError(f'need at least 2 clips to split the targets by position, got '
                         f'{inputs.shape[0]}')
    model.eval()
    target = model.target_generator(model.teacher.module, inputs)  # (B, T, J, C)
    centred = target - target.mean(dim=(0, 1, 2), keepdim=True)
    per_position = target.mean(dim=0, keepdim=True)
    variance = float(centred.square().mean())
    residual = float((target - per_position).square().mean())
    x, mask, hook = model.masking(inputs)
    pred = model.head(model.backbone(x, **hook))
    reps = pred.shape[0] // target.shape[0]
    tgt = target.repeat(reps, 1, 1, 1)
    masked = mask.bool()
    if masked.dim() == tgt.dim():
        masked = masked[..., 0]
    t_m, p_m = tgt[masked], pred[masked]
    pos_m = per_position.expand_as(target).repeat(reps, 1, 1, 1)[masked]
    student = float((p_m - t_m).square().mean())
    position = float((pos_m - t_m).square().mean())
    return dict(clips=int(inputs.shape[0]), masked_tokens=int(masked.sum()),
                variance=variance,
                position_share=1.0 - residual / variance if variance > 0 else None,
                student_mse=student, position_mse=position,
                clip_part_explained=1.0 - student / position if position > 0 else None,
                target_std=_channel_std(t_m), pred_std=_channel_std(p_m))


def main(argv=None):
    args = parse_args(argv)
    cfg = read_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    from mmengine.registry import init_default_scope
    init_default_scope('dualpose')
    model = MODELS.build(cfg.model)
    if not hasattr(model, 'target_generator'):
        raise SystemExit(f'{args.config}: its model ({type(model).__name__}) is not a CRL '
                         'pre-training model (no target generator)')
    load_weights(model, args.checkpoint, args.config)
    dataset = sr.build_dataset(cfg)
    gen = torch.Generator().manual_seed(args.seed)
    idx = torch.randperm(len(dataset), generator=gen)[:args.clips].tolist()
    inputs = torch.stack([dataset[i]['inputs'] for i in idx]).float()
    torch.manual_seed(args.seed)
    stats = dict(config=args.config, checkpoint=args.checkpoint, seed=args.seed,
                 **target_statistics(model, inputs))
    print(f'{stats["clips"]} clips, {stats["masked_tokens"]} masked tokens')
    share = stats['position_share']
    print('position share of the target variance: '
          + ('- (the targets are constant)' if share is None else f'{100 * share:.1f}%'))
    explained = stats['clip_part_explained']
    print(f'masked tokens: student MSE {stats["student_mse"]:.4f}, per-position mean '
          f'{stats["position_mse"]:.4f}, target variance {stats["variance"]:.4f}; the student '
          'predicts ' + ('none (the clips are alike)' if explained is None else
                         f'{100 * explained:.1f}%') + ' of the clip-specific part')
    print(f'target_std {stats["target_std"]:.3f}, pred_std {stats["pred_std"]:.3f}')
    if args.json:
        sr.write_json(args.json, stats)
    return stats


if __name__ == '__main__':
    main()
