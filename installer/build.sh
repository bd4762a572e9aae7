#!/usr/bin/env bash
# Build the Linux one-folder bundle (dist/infusion-desk/) and prove it works headless.
#
#     installer/build.sh            # or: make dist
#
# 1. A build environment (build/venv, kept between builds; INFUSION_DESK_BUILD_VENV moves it)
#    gets the project installed as users get it (not editable) and a pinned PyInstaller,
#    which is a build tool only, never a dependency of the app.
# 2. PyInstaller builds dist/infusion-desk/ from installer/infusion-desk.spec.
# 3. dist/infusion-desk.desktop and the icon are written beside it.
# 4. The bundle runs its self-test and opens its window, signs in and quits, both with
#    QT_QPA_PLATFORM=offscreen; the build fails if either fails.
# 5. The bundle's size and the time of --version and --self-test are printed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYINSTALLER_VERSION=6.22.3
PYTHON=${PYTHON:-python3}
BUILD_VENV=${INFUSION_DESK_BUILD_VENV:-build/venv}
DIST=dist
BUNDLE=$DIST/infusion-desk
APP=$BUNDLE/infusion-desk

say() { printf '\n== %s\n' "$*"; }
now_ns() { date +%s%N; }
seconds_since() { awk -v s="$1" -v e="$(now_ns)" 'BEGIN { printf "%.2f", (e - s) / 1e9 }'; }

started=$(now_ns)

say "build environment: $BUILD_VENV"
if [ ! -x "$BUILD_VENV/bin/python" ]; then
    "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Infusion Desk needs Python 3.11 or newer")'
    "$PYTHON" -m venv "$BUILD_VENV"
fi
VPY=$BUILD_VENV/bin/python
# setuptools builds in build/lib; a file deleted from the source must not linger there
rm -rf build/lib build/bdist.*
"$VPY" -m pip install --quiet "pyinstaller==$PYINSTALLER_VERSION" .
"$VPY" -c 'import infusion_desk, PyInstaller; print("infusion-desk", infusion_desk.__version__, "| PyInstaller", PyInstaller.__version__)'

say "PyInstaller"
rm -rf "$BUNDLE" "$DIST/infusion-desk.desktop"
# the script, not "python -m": that would put the source folder first on sys.path, and the
# bundle must be made from the installed package (its resources are mapped from resources/)
"$BUILD_VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath build/pyinstaller installer/infusion-desk.spec

say "desktop entry and icon"
cp resources/icons/infusion-desk.png resources/icons/infusion-desk.svg "$DIST/"
cat > "$DIST/infusion-desk.desktop" <<'EOF'
[Desktop Entry]
Type=Application
Name=Infusion Desk
GenericName=Infusion clinic billing
Comment=Front desk, chair-side documentation, coding, claims, payments and patient billing
Exec=infusion-desk
Icon=infusion-desk
Terminal=false
Categories=Office;Finance;MedicalSoftware;
Keywords=infusion;billing;claims;837P;CMS-1500;
EOF
echo "$DIST/infusion-desk.desktop (install: see installer/README.md)"

export QT_QPA_PLATFORM=offscreen

say "self-test of the bundle"
t=$(now_ns)
"$APP" --self-test
self_test_s=$(seconds_since "$t")

say "the bundle's window: shown, database opened, signed in"
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
probe_url="sqlite:///$probe_dir/clinic.sqlite3"
(
    export INFUSION_DESK_PASSPHRASE="bundle probe passphrase"
    export PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring  # never touch this computer's keyring
    "$APP" --database-url "$probe_url" demo --patients 3 --months 0 >/dev/null 2>&1
    INFUSION_DESK_STARTUP_PROBE=signed-in timeout 120 "$APP" --database-url "$probe_url"
) > "$probe_dir/probe.json"
grep -q '"signed_in_ns"' "$probe_dir/probe.json" || { echo "the window did not come up and sign in"; exit 1; }
echo "window shown and signed in: $(cat "$probe_dir/probe.json")"

say "figures"
t=$(now_ns)
"$APP" --version
version_s=$(seconds_since "$t")
echo "bundle size:        $(du -sh "$BUNDLE" | cut -f1) ($(find "$BUNDLE" -type f | wc -l) files)"
echo "--version:          ${version_s} s"
echo "--self-test:        ${self_test_s} s"
echo "whole build:        $(seconds_since "$started") s"
echo "run it:             $APP"
