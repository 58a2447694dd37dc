"""The protocols the shim speaks. Each module parses its requests into the neutral
``Conversation`` of ``_core`` and renders answers, stream events and errors in its own shape;
none of them decides what to say (``_core``) or what goes wrong (``_faults``)."""
