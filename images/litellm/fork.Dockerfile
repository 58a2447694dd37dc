# A fork's steps, appended by bed to Dockerfile when the gateway is a local checkout: its
# litellm/ package replaces the release's (see overlay.sh). Everything above is the release's
# own steps, so the install layer comes from the build cache when that release was built.
# python3.11: the bed-python image's interpreter (Debian bookworm); overlay.sh checks it.
RUN sh /tmp/bed-gateway/overlay.sh prepare
COPY fork/litellm /opt/venv/lib/python3.11/site-packages/litellm
RUN sh /tmp/bed-gateway/overlay.sh finish
