"""The Telegram adapter: python-telegram-bot updates in, service calls, Replies out.

`app` starts the bot and registers the handlers, `handlers` maps each kind of update to one
service call, `send` renders a Reply within Telegram's limits. No product logic lives here.
"""
