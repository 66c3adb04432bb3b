"""Step-only benchmark (same as ``optimlab bench step``): optimlab vs torch.optim vs the roofline.

    OMP_NUM_THREADS=1 python benchmarks/step.py [--quick] [--optimizers adam,sgd] [--json out.json]
"""

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

from optimlab.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["bench", "step", *sys.argv[1:]]))
