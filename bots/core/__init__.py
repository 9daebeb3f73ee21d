"""What a chat user can do, platform-neutral and typed: one module per feature.

`values` holds the small types the adapters speak in (User, Where, VoiceNote, Reply, Button);
`notes`, `feedback`, `commands`, `consent` and `digests` are the features; `service` is the one
facade the adapters and the web page hold. Nothing here imports a platform library, and only
the features touch storage.
"""
