"""vj: the live app around the engine (CLI, window, controls, audio, recording, setups)."""
