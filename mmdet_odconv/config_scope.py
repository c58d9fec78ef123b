"""The ``mmdet_odconv::`` config scope, as ``mmdet::`` is MMDetection's.

With it, a config anywhere can inherit the configs this package ships::

    _base_ = 'mmdet_odconv::odconv/faster-rcnn_r50-odconv4x_fpn_1x_coco.py'

MMEngine resolves ``pkg::path`` only for the packages in its table
``MODULE2PACKAGE``, and reads ``<package dir>/.mim/configs/path`` (and
``.mim/model-index.yml``). The package ships the repository's ``configs/``
there: a link in a checkout (so editable installs see edits at once), the
files themselves in a wheel. The scope exists only once this package is
imported, so the process that parses such a config must import it first.
"""
SCOPE = 'mmdet_odconv'


def register_config_scope() -> bool:
    """Add ``mmdet_odconv`` to MMEngine's config scopes.

    Returns:
        bool: False, and nothing done, when MMEngine is not installed.
    """
    try:
        from mmengine.config.utils import MODULE2PACKAGE
    except ImportError:  # plain PyTorch use: no configs to resolve
        return False
    # MMEngine hands this value to ``get_installed_path``. The distribution
    # name would resolve to site-packages, where an editable install has no
    # files; a module path that no distribution has makes MMEngine fall back
    # to importlib, which finds the package wherever it is imported from.
    MODULE2PACKAGE[SCOPE] = __name__
    return True
