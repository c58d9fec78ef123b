"""Install mmdet-odconv.

``pip install .`` installs the layer with torch alone;
``pip install '.[mmdet]'`` adds the MMDetection stack (backbones, hooks,
configs, tools). The configs ship inside the package, under
``mmdet_odconv/.mim`` (links to ``configs/`` and ``model-index.yml``), where
MMEngine looks for ``mmdet_odconv::`` config bases.
"""
import os.path as osp
import warnings

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
MIM = osp.join('mmdet_odconv', '.mim')


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'mmdet_odconv', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def read_requirements(name: str) -> list:
    with open(osp.join(HERE, 'requirements', name)) as f:
        return [
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip()
        ]


def check_mim() -> None:
    """Stop a build whose ``.mim`` would ship without the configs.

    A checkout made without symbolic links (``core.symlinks=false``) has a
    small text file where ``.mim/configs`` links to ``configs/``.
    """
    configs = osp.join(HERE, MIM, 'configs')
    if not osp.isdir(osp.join(configs, 'odconv')):
        raise SystemExit(
            f'{osp.join(MIM, "configs")} does not reach the configs folder '
            '(a checkout without symbolic links?). Recreate the link with '
            f'`ln -sfn ../../configs {osp.join(MIM, "configs")}` (or copy '
            'configs/ there), then build again.')
    if not osp.isfile(osp.join(HERE, MIM, 'model-index.yml')):
        warnings.warn(
            f'{osp.join(MIM, "model-index.yml")} is missing: MMEngine reads '
            'it for every mmdet_odconv:: config base, which will fail.')


check_mim()
mmdet_requires = read_requirements('mmdet.txt')

setup(
    name='mmdet-odconv',
    version=read_version(),
    description='ODConv (Omni-Dimensional Dynamic Convolution, ICLR 2022) '
    'for MMDetection and any PyTorch model',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(include=['mmdet_odconv', 'mmdet_odconv.*']),
    # Package data: mmdet_odconv/.mim, as MANIFEST.in lists it.
    include_package_data=True,
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'mmdet': mmdet_requires,
        'mmpretrain': mmdet_requires + read_requirements('mmpretrain.txt'),
        'tests': mmdet_requires + read_requirements('tests.txt'),
    },
    classifiers=[
        'Programming Language :: Python :: 3',
        'License :: OSI Approved :: Apache Software License',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
