"""The EMA teacher of contextualized representation pre-training."""
import torch
import torch.nn as nn
from mmengine.model import ExponentialMovingAverage

from dualpose.registry import MODELS


@MODELS.register_module()
class MomentumTeacher(ExponentialMovingAverage):
    """``teacher <- tau * teacher + (1 - tau) * student``, with tau rising linearly from
    ``tau_start`` to ``tau_end`` over ``tau_iters`` updates, then constant (data2vec).

    mmengine's ``momentum`` is the weight of the *student* (``1 - tau``); this class speaks in
    tau. The update count ``steps`` is a buffer, so the schedule resumes with the checkpoint.
    The teacher never receives gradients (its parameters have ``requires_grad=False``).

    Args:
        model (nn.Module): the student to copy.
        tau_start, tau_end (float): teacher weight at the first and after ``tau_iters`` updates.
        tau_iters (int): length of the linear ramp, in updates (iterations).
        frozen (bool): never update (the public code's de-facto behaviour; for the ablation).
        use_foreach (bool): update all tensors with one fused ``torch._foreach_lerp_`` call;
            False runs mmengine's per-parameter loop (the reference).
        shared (tuple[str]): names (or name prefixes) of parameters the teacher shares with
            the student instead of averaging them: copied from the student at every update,
            also when ``frozen``. ``ContextualDistiller(teacher=dict(share_embedding=True))``
            shares the input and position embeddings this way, as data2vec shares its feature
            encoder between student and teacher.
    """

    def __init__(self, model: nn.Module, tau_start: float = 0.999, tau_end: float = 0.9999,
                 tau_iters: int = 10000, frozen: bool = False, use_foreach: bool = True,
                 shared: tuple = ()):
        if not 0.0 < tau_start <= tau_end < 1.0:
            raise ValueError(f'need 0 < tau_start <= tau_end < 1, got {tau_start}, {tau_end}')
        super().__init__(model, momentum=1 - tau_start, interval=1, update_buffers=False)
        self.tau_start, self.tau_end = tau_start, tau_end
        self.tau_iters = max(int(tau_iters), 1)
        self.frozen = frozen
        self.use_foreach = use_foreach
        self.shared = tuple(shared)
        names = [k for k, _ in model.named_parameters()]
        unknown = [p for p in self.shared if not any(self.is_shared_name(k, (p,)) for k in names)]
        if unknown:
            raise ValueError(f'MomentumTeacher shared={unknown}: no parameter of '
                             f'{type(model).__name__} has that name or prefix')

    @staticmethod
    def is_shared_name(name: str, prefixes) -> bool:
        return any(name == p or name.startswith(p.rstrip('.') + '.') for p in prefixes)

    @torch.no_grad()
    def copy_shared(self, model: nn.Module) -> None:
        """Copy the shared parameters from the student (see ``shared``)."""
        if not self.shared:
            return
        for k, p in model.named_parameters():
            if self.is_shared_name(k, self.shared):
                self.avg_parameters[k].data.copy_(p.data.to(self.avg_parameters[k].device))

    def tau_at(self, step: int) -> float:
        """Teacher weight used by the update number ``step`` (0-based)."""
        frac = min(step / self.tau_iters, 1.0)
        return self.tau_start + (self.tau_end - self.tau_start) * frac

    @property
    def tau(self) -> float:
        """The tau the next update will use."""
        return self.tau_at(int(self.steps))

    def avg_func(self, averaged_param, source_param, steps):
        averaged_param.lerp_(source_param, 1 - self.tau_at(int(steps)))

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        if self.frozen:
            self.steps += 1
            self.copy_shared(model)
            return
        if not self.use_foreach or int(self.steps) == 0:
            super().update_parameters(model)
            self.copy_shared(model)
            return
        src = dict(model.named_parameters())
        avg, cur = [], []
        for k, p_avg in self.avg_parameters.items():
            if self.is_shared_name(k, self.shared):
                p_avg.data.copy_(src[k].data.to(p_avg.device))
            elif p_avg.dtype.is_floating_point:
                avg.append(p_avg.data)
                cur.append(src[k].data.to(p_avg.device))
        torch._foreach_lerp_(avg, cur, 1 - self.tau_at(int(self.steps)))
        for b_avg, b_src in zip(self.module.buffers(), model.buffers()):
            b_avg.data.copy_(b_src.data.to(b_avg.device))
        self.steps += 1
