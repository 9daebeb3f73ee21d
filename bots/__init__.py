"""Everything people talk to: the features in `core/`, and the Telegram, Discord and web adapters.

`core/` decides what happens (platform-neutral, the only part that touches storage); `telegram/`,
`discord/` and `web/` translate their platform's events into calls on it and render its Replies.
The wording (`i18n.py`), replies (`replies.py`) and charts (`charts/`) are made once here.
"""
