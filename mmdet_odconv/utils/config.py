"""Load a config with the command-line overrides our tools share."""
import os.path as osp
from typing import Optional

from mmengine.config import Config


def load_config(path: str,
                launcher: str = 'none',
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None) -> Config:
    """``Config.fromfile`` plus ``--launcher``, ``--cfg-options`` and
    ``--work-dir`` as MMDetection's tools apply them (work dir: command
    line, else the config's, else ``work_dirs/<config name>``)."""
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg
