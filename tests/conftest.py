import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads():
    """Deterministic tests; torch uses both cores of the CI machine."""
    torch.manual_seed(0)
    yield


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory):
    """A tiny generated COCO dataset (8 train / 4 val images, 96 px)."""
    from mmdet_odconv.workbench import generate_coco_dataset
    root = tmp_path_factory.mktemp('data') / 'tiny'
    generate_coco_dataset(str(root), num_train=8, num_val=4, image_size=96,
                          seed=1)
    return root
