"""The images bed builds: specs (what goes in), the offline base, content-hashed builds."""
