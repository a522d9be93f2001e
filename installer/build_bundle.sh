#!/usr/bin/env bash
# Builds the one-folder bundle (dist/p20win) and its zip with a SHA-256 beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(uv run python -c "import app; print(app.__version__)")
uv run pyinstaller installer/p20win.spec --noconfirm --log-level WARN --distpath dist --workpath build
zip="p20win-$version-linux-x86_64.zip"
( cd dist && rm -f "$zip" && uv run python -m zipfile -c "$zip" p20win/ && sha256sum "$zip" > "$zip.sha256" )
du -sh dist/p20win
