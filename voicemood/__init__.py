"""VoiceMood's composition root: settings and the one `voicemood` command that wires the packages."""
