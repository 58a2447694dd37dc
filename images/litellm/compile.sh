#!/bin/sh
# Bytecode for what the proxy imports, written once at build time: without it every start
# recompiles all of litellm in memory (PYTHONDONTWRITEBYTECODE), which doubled the boot.
# Importing the proxy's server module writes exactly the modules a boot loads (61 MB of .pyc
# for 1.108.7) where compiling the whole venv wrote 155 MB; the boot is as fast either way.
# The exit status says whether the proxy imports (install.sh reads it: see prune.sh). A gateway
# whose import fails still builds: its proxy then fails to boot, with its traceback in the
# container's log, which says more than a failed build would.
#   compile.sh [quiet]   quiet: no word when the import fails (install.sh tries again)
cd /tmp
status=0
PYTHONDONTWRITEBYTECODE= LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False \
    /opt/venv/bin/python -c "import litellm.proxy.proxy_server" > /tmp/bed-compile.log 2>&1 || status=1
if [ "$status" != 0 ] && [ "${1:-}" != quiet ]; then
    echo "bed: importing litellm.proxy.proxy_server failed; the proxy will not boot:"
    tail -3 /tmp/bed-compile.log
fi
rm -f /tmp/bed-compile.log
[ "$status" = 0 ] && echo "bed: bytecode written for $(find /opt/venv -name '*.pyc' | wc -l) modules"
exit "$status"
