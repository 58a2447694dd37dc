#!/bin/sh
# Bytecode for what the proxy imports, written once at build time: without it every start
# recompiles all of litellm in memory (PYTHONDONTWRITEBYTECODE), which doubled the boot.
# Importing the proxy's server module writes exactly the modules a boot loads (61 MB of .pyc
# for 1.108.7) where compiling the whole venv wrote 155 MB; the boot is as fast either way.
# A gateway whose import fails still builds: its proxy then fails to boot, with its traceback
# in the container's log, which says more than a failed build would.
cd /tmp
PYTHONDONTWRITEBYTECODE= LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False \
    /opt/venv/bin/python -c "import litellm.proxy.proxy_server" > /tmp/bed-compile.log 2>&1 \
    || { echo "bed: importing litellm.proxy.proxy_server failed; the proxy will not boot:"; tail -3 /tmp/bed-compile.log; }
rm -f /tmp/bed-compile.log
echo "bed: bytecode written for $(find /opt/venv -name '*.pyc' | wc -l) modules"
