"""The sub-commands, one module each: ``add_arguments(parser)`` and ``run(args, environ, console) -> int``."""
