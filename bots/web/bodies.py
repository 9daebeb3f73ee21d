"""The API's request and response bodies as pydantic models: the contract, in one place.

Handlers read requests through these models and answer through them, and the OpenAPI document's
components are generated from them (bots.web.openapi), so what is served and what is described
cannot drift apart. Enumerations come from where their values live (bots.i18n's languages,
inference's labels), not from copies here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)
from typing_extensions import TypeAliasType

from bots.core.buttons import PICKABLE_LABELS
from bots.i18n import LANGUAGES, Lang
from inference.cues import Word
from inference.labels import CANONICAL_LABELS

# What the analyse form's boxes send when ticked; anything else is "no".
FLAG_YES = ("1", "true", "on", "yes")
_FLAG_NO = ("0", "false", "off", "no")


def _canonical(label: str) -> str:
    if label not in CANONICAL_LABELS:
        raise ValueError(f"{label!r} is not a canonical label")
    return label


def _known_or_none(value: Any) -> Any:
    # An unknown language is no choice at all: the query, Accept-Language or the default decide.
    return value if value in LANGUAGES else None


Language = TypeAliasType("Language", Lang)
Label = TypeAliasType(
    "Label",
    Annotated[
        str,
        AfterValidator(_canonical),
        WithJsonSchema({"type": "string", "enum": list(CANONICAL_LABELS)}),
    ],
)
Probability = Annotated[float, Field(ge=0, le=1)]
Affect = Annotated[float, Field(ge=-1, le=1)]
PerLanguage = dict[Language, str]
LanguageChoice = Annotated[Language | None, BeforeValidator(_known_or_none)]
# Only JSON `true` says yes (a string "true" is not a tick).
JsonTrue = Annotated[bool, BeforeValidator(lambda value: value is True)]
Flag = Annotated[
    bool,
    BeforeValidator(lambda value: str(value).lower() in FLAG_YES),
    WithJsonSchema({"type": "string", "enum": [*FLAG_YES, *_FLAG_NO]}),
]
_NO: dict[str, Any] = {"default": "false"}  # as the form sends it, not the boolean it means
AudioFile = Annotated[
    bytes, WithJsonSchema({"type": "string", "contentMediaType": "application/octet-stream"})
]


# Shared


class ErrorBody(BaseModel):
    """Every error a person can cause: a polite sentence in their language, and its code."""

    error: str = Field(description="A polite sentence to show.")
    code: str


class _Request(BaseModel):
    lang: LanguageChoice = Field(None, description="The language of the answer's sentences.")


# Analysing, feedback, forgetting, health


class AnalyseForm(_Request):
    audio: AudioFile
    remember: Flag = Field(
        False,
        description="Keep this answer (never the recording) for this browser's history, export and words.",
        json_schema_extra=_NO,
    )
    donate: Flag = Field(
        False,
        description="Keep this recording, its answer and later votes for retraining.",
        json_schema_extra=_NO,
    )
    face: Flag = Field(
        False,
        description="Also read the face in this video (its pictures are never kept).",
        json_schema_extra=_NO,
    )


class Top(BaseModel):
    label: Label
    probability: Probability


class Segment(BaseModel):
    start_s: float
    end_s: float
    label: Label
    confidence: Probability
    not_sure: bool = Field(description="confidence is below the threshold: a guess, not a reading")


class Cue(BaseModel):
    value: float | None = Field(description="null: not measurable")
    usual: float | None = Field(
        description="the speaker's usual value (with /baseline), else typical"
    )
    word: Word | None


class Cues(BaseModel):
    """The voice cues behind the tone, each read against a reference."""

    pitch_hz: Cue = Field(description="median F0 of voiced frames, Hz")
    pitch_range_st: Cue = Field(description="10th-90th percentile of F0, semitones")
    loudness_db: Cue = Field(description="RMS of voiced frames, dB relative to full scale")
    speech_rate: Cue = Field(description="syllable-like nuclei per second of speech")
    pause_share: Cue = Field(description="share of the note (first to last speech) that is pause")


class CueReading(BaseModel):
    against: Literal["own", "typical"] | None
    departures: dict[str, float | None] = Field(
        description="Each cue's distance from the reference in its own tolerance:"
        " beyond +-1 the word is higher or lower."
    )
    line: dict[Language, str | None] = Field(
        description="The bots' one-line cue sentence, per language."
    )


class FaceAnswer(BaseModel):
    """The face in a video (inference.face.FaceReading); `label` is null when none was seen."""

    label: Label | None
    confidence: Probability
    probabilities: dict[Label, Probability]
    frames: int
    frames_with_face: int
    several_faces: bool


class FusedAnswer(BaseModel):
    """Voice and face together on the valence/arousal plane (inference.face.FusedReading)."""

    label: Label
    confidence: Probability
    valence: Affect
    arousal: Affect
    quadrant: str
    disagree: bool = Field(description="The two sides lie too far apart to be joined.")
    distance: float
    voice_weight: Probability
    face_weight: Probability


class Answer(BaseModel):
    """`voicemood classify --json`'s answer, the sentence, the kept note's id, the cue reading."""

    file: str
    label: Label
    confidence: Probability
    not_sure: bool
    probabilities: dict[Label, Probability]
    top: list[Top]
    valence: Affect
    arousal: Affect
    duration_s: float
    speech_s: float | None = Field(description="Seconds of speech heard (the speech detector's).")
    model: str
    timeline: list[Segment]
    cues: Cues
    text: str = Field(description="The bots' sentence for this answer.")
    donated: bool
    remembered: bool = Field(description="the answer is kept")
    note_id: int | None
    cue_reading: CueReading
    words: dict[Label, str] = Field(description="The visitor's own word per tone.")
    face: FaceAnswer | None = Field(None, description="With `face` ticked, a video's face.")
    fused: FusedAnswer | None = Field(None, description="Voice and face together, when seen.")
    face_text: str | None = Field(
        None, description="The bots' lines for the face (or why it was not read)."
    )


class FeedbackRequest(_Request):
    # The service checks the label itself, so an unknown one is answered "bad_label".
    label: StrictStr = Field(json_schema_extra={"enum": list(PICKABLE_LABELS)})
    note_id: StrictInt | None = None


class FeedbackAnswer(BaseModel):
    stored: bool
    message: str


class Forgotten(BaseModel):
    message: str = Field(description="What was deleted.")


class Health(BaseModel):
    status: Literal["ok", "stopped"]
    model: str


class Catalogue(BaseModel):
    """The page's sentences and tone names in every language, and the charts' palette."""

    default: Language
    languages: list[Language]
    text: dict[Language, dict[str, str]]
    labels: dict[Language, dict[Label, str]]
    emoji: dict[Label, str]
    pickable: list[Label]
    affect: dict[Label, tuple[Affect, Affect]] = Field(description="valence, arousal")
    colours: dict[Label, str]


# Me: a remembered browser's history, export and words


class Me(BaseModel):
    remembered: bool
    words: dict[Label, str] = Field(description="The visitor's own word per tone.")
    message: str


class History(BaseModel):
    text: str
    chart: str | None = Field(
        description="A data: URL of the PNG chart; null when nothing to draw."
    )


class WordsRequest(_Request):
    label: StrictStr | None = Field(None, description="A tone's key or name, any language.")
    word: StrictStr | None = None
    reset: JsonTrue = False
    remember: JsonTrue = Field(
        False, description="Remember a browser not yet remembered (its box is ticked)."
    )


class Words(BaseModel):
    message: str
    words: dict[Label, str] = Field(description="The visitor's own word per tone.")


# Practice


class PracticeRound(BaseModel):
    tone: str
    number: int = Field(ge=1)
    sentence: PerLanguage = Field(description="The sentence to say, per language.")
    text: PerLanguage = Field(description="The bots' round message, per language.")


class PracticeTally(BaseModel):
    tone: str
    hits: int = Field(ge=0)
    attempts: int = Field(ge=0)


class Hint(BaseModel):
    cue: str
    direction: Literal["higher", "lower"]


class PracticeAttempt(BaseModel):
    target: str
    heard: str
    confidence: Probability
    not_sure: bool
    top: list[Top]
    hit: bool
    hint: Hint | None
    score: PracticeTally | None
    text: PerLanguage = Field(description="The bots' answer to the attempt, per language.")


class PracticeSummary(BaseModel):
    rounds: int = Field(ge=0)
    session: list[PracticeTally]
    scores: list[PracticeTally]
    text: PerLanguage


class PracticeState(BaseModel):
    round: PracticeRound | None
    tones: list[str]


class PracticeStartRequest(_Request):
    tone: StrictStr | None = None


class PracticeStarted(BaseModel):
    round: PracticeRound


class PracticeAttemptForm(_Request):
    audio: AudioFile


class PracticeStopRequest(_Request):
    pass


class PracticeStopped(BaseModel):
    summary: PracticeSummary | None
    message: str | None


class MusicRequest(_Request):
    """Where an answer sits on the plane, which kind of songs, and the keys shown last time."""

    valence: Affect
    arousal: Affect
    mode: Literal["match", "lift"] = "match"
    avoid: list[StrictStr] = Field(
        default_factory=list, max_length=3, description="The keys of the songs shown last."
    )
    not_sure: bool = Field(False, description="the answer was not sure (the header says so)")


class Song(BaseModel):
    key: str = Field(description="The song's catalogue key; send it back in `avoid`.")
    name: str = Field(description="Title and artist (or film), worded for the language.")
    title: str
    artist: str = Field(description="Empty for a film-score excerpt.")
    film: bool
    valence: Affect
    arousal: Affect
    link: str = Field(description="A web search for the song (no request is made by VoiceMood).")


class MusicAnswer(BaseModel):
    """Three songs near the aim, the sentence that says where they aim, and why these."""

    mode: Literal["match", "lift"]
    header: str
    not_sure: str | None
    why: str
    songs: list[Song] = Field(min_length=1, max_length=3)
