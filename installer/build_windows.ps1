# Builds the Windows installer: PyInstaller one-folder bundle, then Inno Setup 6 (iscc on PATH).
# Run from the repository root in PowerShell:  powershell -ExecutionPolicy Bypass -File installer\build_windows.ps1
$ErrorActionPreference = "Stop"
$version = (Select-String -Path pyproject.toml -Pattern '^version\s*=\s*"([^"]+)"').Matches[0].Groups[1].Value
uv sync --locked
uv run pyinstaller installer\p20win.spec --noconfirm --distpath dist --workpath build
iscc "/DAppVersion=$version" "/DSourceDir=..\dist\p20win" installer\p20win.iss
Get-FileHash -Algorithm SHA256 "dist\P20WIN-Desk-$version-setup.exe" | Format-List
