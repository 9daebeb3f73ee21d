"""The answer's 🎵 music on the page: three songs for its place on the plane, as the bots suggest.

Nothing is stored: the page sends the answer's valence and arousal, match or lift, and the keys of
the songs it showed last (`avoid`), so the next three differ without the server keeping anything
of an anonymous visitor.
"""

from __future__ import annotations

from aiohttp import web

from bots.core.music import music_header, song_name
from bots.i18n import t
from bots.web.bodies import MusicAnswer, MusicRequest, Song
from bots.web.context import language, read_json, service
from bots.web.responses import error_response, json_reply
from inference.errors import VoiceMoodError


async def music(request: web.Request) -> web.Response:
    """POST /api/music {"valence", "arousal", "mode"?, "avoid"?, "not_sure"?, "lang"?}."""
    lang = language(request)
    try:
        body = await read_json(request, MusicRequest)
    except VoiceMoodError as error:
        return error_response(error, lang)
    lang = language(request, body.lang)
    place = (body.valence, body.arousal)
    songs = service(request).music.pick(place, body.mode, body.avoid)
    return json_reply(
        MusicAnswer(
            mode=body.mode,
            header=music_header(body.mode, place, lang),
            not_sure=t(lang, "music.not_sure") if body.not_sure else None,
            why=t(lang, "music.why"),
            songs=[
                Song(
                    key=s.key,
                    name=song_name(s, lang),
                    title=s.title,
                    artist=s.artist,
                    film=s.is_film,
                    valence=s.valence,
                    arousal=s.arousal,
                    link=s.link,
                )
                for s in songs
            ],
        )
    )
