"""The example of docs/plain_pytorch.md runs as written."""
import os.path as osp
import re
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_plain_pytorch_example_runs():
    with open(osp.join(ROOT, 'docs', 'plain_pytorch.md')) as f:
        blocks = re.findall(r'```python\n(.*?)```', f.read(), re.S)
    assert len(blocks) == 1
    proc = subprocess.run([sys.executable, '-c', blocks[0]], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = re.findall(r'^(\w+): \d+ ODConv layers', proc.stdout, re.M)
    assert names == ['tiny_resnet', 'yolo_style']
