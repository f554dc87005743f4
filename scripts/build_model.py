"""Write the imr_nlp pipeline to disk: python scripts/build_model.py [models/imr_pipeline].

The pipeline is built fresh (not the cached one a session may have used), so the saved
vocabulary holds only what the rules need and the output is the same on every run.
"""

import shutil
import sys
from pathlib import Path

from imr_nlp.pipeline import build

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "models/imr_pipeline")
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    build().to_disk(out)
    print(f"wrote {out}")
