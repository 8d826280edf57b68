"""finish_distributed: ranks wait for each other, then destroy the process group (the CPU
end-of-run SIGABRT of tools/dist_train.sh came from gloo torn down in exit handlers)."""
import torch.distributed as dist

from dualpose.utils.compat import finish_distributed


def test_finish_distributed_destroys_the_group(tmp_path):
    finish_distributed()  # not distributed: a no-op
    dist.init_process_group('gloo', init_method=f'file://{tmp_path / "store"}', rank=0,
                            world_size=1)
    assert dist.is_initialized()
    finish_distributed()
    assert not dist.is_initialized()
