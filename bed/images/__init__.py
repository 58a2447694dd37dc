"""The images bed builds: specs (what goes in), the offline base, content-hashed builds.

The Dockerfiles and build contexts live at the repository's top level, in ``images/``;
``bed/images/context`` is a symbolic link to it, so the code reads them at one path and the wheel
carries them as files (setuptools copies what the link points at: ``make wheel``)."""
