"""Every chart VoiceMood draws, as PNG bytes any adapter can send.

`canvas` is what all charts share (the fonts, the one drawing lock, PNG out), `labels` places
words beside dots without overlaps, and each chart has its own module: `summary` (/summary's
group mood) and `history` (/history's tones per day). The numbers come from bots.summary and
bots.history; nothing here aggregates.
"""
