"""Voice clip packs: displays/clips/<pack>/<name>.wav (see docs/voice.md); make_pack.py builds the default one."""
