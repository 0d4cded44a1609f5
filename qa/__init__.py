"""Questions in, ranked passages and cited answers out. Reads the index; never writes it."""
