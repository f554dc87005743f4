"""Write the imr_nlp pipeline to disk: python scripts/build_model.py [models/imr_pipeline]."""

import sys
from pathlib import Path

import imr_nlp

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "models/imr_pipeline")
    imr_nlp.load().to_disk(out)
    print(f"wrote {out}")
