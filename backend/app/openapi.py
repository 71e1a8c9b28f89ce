"""Print the OpenAPI schema (the frontend generates its typed client from it)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from app.core.config import Settings
from app.main import create_app


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp), serve_frontend=False))
        json.dump(app.openapi(), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
