"""The Discord adapter: discord.py events in, service calls, Replies rendered back.

`app` starts the client and loads one Cog per feature (`notes`, `feedback`, `commands`,
`digests`); `chat` maps Discord's objects to the service's User and Where; `render` turns a
Reply into messages, embeds and persistent buttons. No product logic lives here.
"""
