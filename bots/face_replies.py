"""The lines a face reading adds to an answer, and the voice and face together, in EN and KO.

Made once here for `voicemood classify` and the bots: the face's own line (or that none was
seen), then one line joining both sides, or saying plainly that they disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

from bots.i18n import EMOJI, label_name, percent, t
from inference.face import FaceReading, FusedReading

# Under this the face's answer names its two likeliest readings, as the voice's does. The
# network is not calibrated (fer's weights, about 66 % accurate on FER2013), so this is a
# plain cut, not a promise.
FACE_NOT_SURE_BELOW = 0.5


def render_face(
    face: FaceReading,
    lang: str = "en",
    words: Mapping[str, str] | None = None,
    *,
    voice_heard: bool = True,
) -> str:
    """The face's line: how it looks and how sure, or that no face was seen; several faces noted.

    `voice_heard`: a voice answer stands beside it, which a video without a face falls back on.
    """
    photo = face.frames == 1
    if face.label is None:
        if photo:
            return t(lang, "face.none_photo")
        return t(lang, "face.none" if voice_heard else "face.none_video")
    top = sorted(face.probabilities.items(), key=lambda item: item[1], reverse=True)
    if face.confidence < FACE_NOT_SURE_BELOW and len(top) >= 2:
        (first, p1), (second, p2) = top[:2]
        line = t(
            lang,
            "face.not_sure",
            first=label_name(lang, first, words),
            p1=percent(p1),
            second=label_name(lang, second, words),
            p2=percent(p2),
        )
    else:
        line = t(
            lang,
            "face.looks_photo" if photo else "face.looks",
            emoji=EMOJI.get(face.label, "🤔"),
            label=label_name(lang, face.label, words),
            confidence=percent(face.confidence),
            seen=face.frames_with_face,
            frames=face.frames,
        )
    if face.several_faces:
        line += " " + t(lang, "face.several")
    return line


def render_fusion(
    voice_label: str,
    face: FaceReading,
    fused: FusedReading,
    lang: str = "en",
    words: Mapping[str, str] | None = None,
    *,
    voice_not_sure: bool = False,
) -> str | None:
    """Voice and face in one line ("the voice sounds calm; the face looks happy").

    None without a face, or when either side is unsure: their own lines already name two
    readings, and one plain label for each would claim more than was heard or seen.
    """
    if face.label is None or voice_not_sure or face.confidence < FACE_NOT_SURE_BELOW:
        return None
    names = {
        "voice": label_name(lang, voice_label, words),
        "face": label_name(lang, face.label, words),
    }
    if fused.disagree:
        return t(lang, "face.disagree", **names)
    return t(lang, "face.together", quadrant=t(lang, f"quadrant.{fused.quadrant}"), **names)
