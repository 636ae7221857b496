#!/bin/sh
# Install jichitai-search from this offline bundle: `sh install.sh [DIR]` (default ./jichitai-search). Needs the
# target's python3 (3.11+); reads nothing from the network (pip runs with --no-index on the bundled wheels).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:-./jichitai-search}
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
    echo "Python 3.11 以上が必要です / Python 3.11+ is needed: $("$PY" --version 2>&1)" >&2; exit 1; }
"$PY" -m venv "$DIR"
DIR=$(cd "$DIR" && pwd)
PIP="$DIR/bin/python -m pip --disable-pip-version-check --no-cache-dir"
# The venv's own pip may be old (23.2 with Python 3.11 does not resolve lxml[html_clean]): the bundled one first.
$PIP install -q --no-index --find-links "$HERE/wheels" --upgrade pip
$PIP install -q --no-index --find-links "$HERE/wheels" jichitai-search
mkdir -p "$DIR/share"
rm -rf "$DIR/share/model-cache"
cp -a "$HERE/model" "$DIR/share/model-cache"  # -a keeps the times the model's freshness stamps record
# jsearch finds the shipped model unless JSEARCH_CACHE_DIR says otherwise.
cat > "$DIR/bin/jsearch" <<SH
#!/bin/sh
: "\${JSEARCH_CACHE_DIR:=$DIR/share/model-cache}"
export JSEARCH_CACHE_DIR
exec "$DIR/bin/python" -m api.cli "\$@"
SH
chmod +x "$DIR/bin/jsearch"
echo "インストールしました / installed: $DIR/bin/jsearch"
