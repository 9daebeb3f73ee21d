"""Every sentence VoiceMood says, in English and Korean, in one place.

Replies speak of how the tone of voice *sounds*, never of what a person feels.
"""

from __future__ import annotations

from typing import Any, Literal

Lang = Literal["en", "ko"]
LANGUAGES: tuple[Lang, ...] = ("en", "ko")

EMOJI = {
    "neutral": "😐",
    "calm": "😌",
    "happy": "😊",
    "sad": "😢",
    "angry": "😠",
    "fearful": "😨",
    "disgust": "🤢",
    "surprised": "😮",
    "bored": "🥱",
    "other": "🤔",
}

LABEL_NAMES: dict[Lang, dict[str, str]] = {
    "en": {
        "neutral": "neutral",
        "calm": "calm",
        "happy": "happy",
        "sad": "sad",
        "angry": "angry",
        "fearful": "fearful",
        "disgust": "disgusted",
        "surprised": "surprised",
        "bored": "bored",
        "other": "something else",
    },
    "ko": {
        "neutral": "중립",
        "calm": "차분함",
        "happy": "기쁨",
        "sad": "슬픔",
        "angry": "화남",
        "fearful": "두려움",
        "disgust": "불쾌함",
        "surprised": "놀람",
        "bored": "지루함",
        "other": "기타",
    },
}

TEXT: dict[Lang, dict[str, str]] = {
    "en": {
        "answer": "{emoji} The tone of voice sounds {label} ({confidence} sure).",
        "not_sure": "🤔 I'm not sure about this one. The tone could sound {first} ({p1}) or {second} ({p2}).",
        "timeline": "How the tone moved: {steps}",
        "error.empty": "That file is empty. Please send a voice note or an audio file.",
        "error.undecodable": "I couldn't read any audio in that file. Please send a voice note or an audio file (ogg, mp3, m4a, wav, flac).",
        "error.no_audio": "That file has no sound track, so there is no voice to listen to.",
        "error.silent": "I couldn't hear any voice in that recording: it is silent or almost silent.",
        "error.too_short": "That recording is too short to tell a tone of voice. Please send at least a second of speech.",
        "error.too_large": "That file is too large for me (the limit is {limit_mb:g} MB).",
        "error.too_long": "That recording is too long for me (the limit is {limit_min:g} minutes). Please send a shorter one.",
        "error.busy": "I'm busy with many voice notes right now. Please try again in a minute.",
        "error.timeout": "That took too long, sorry. Please try again in a minute.",
        "error.no_model": "No emotion model is set up yet, so I can't listen right now.",
        "error.model_load": "My emotion model could not be loaded, so I can't listen right now.",
        "error.error": "Something went wrong while listening to that recording. Please try again.",
        "summary.title": "Mood of this chat, {period}: {count} voice notes",
        "summary.period.today": "today",
        "summary.period.week": "this week",
        "summary.period.last": "last {n} notes",
        "summary.empty": "No analysed voice notes in this chat for {period} yet.",
        "summary.shares": "Tones heard: {shares}",
        "summary.members": "Most often per person: {members}",
        "summary.trend.up": "The tone got brighter over the period.",
        "summary.trend.down": "The tone got darker over the period.",
        "summary.trend.steady": "The tone stayed about the same over the period.",
        "summary.place": "Overall it sits on the {quadrant} side (valence {valence:+.2f}, arousal {arousal:+.2f}).",
        "quadrant.upbeat": "upbeat",
        "quadrant.relaxed": "relaxed",
        "quadrant.tense": "tense",
        "quadrant.low": "low",
        "quadrant.neutral": "neutral",
        "chart.shares": "Share of voice notes",
        "chart.over_time": "Mood over time",
        "chart.valence": "valence (unpleasant → pleasant)",
        "chart.arousal": "arousal (calm → energetic)",
        "chart.plane": "Where the mood sits",
        "chart.valence_short": "valence (pleasant)",
        "chart.arousal_short": "arousal (energy)",
        "chart.everyone": "everyone",
    },
    "ko": {
        "answer": "{emoji} 목소리 톤이 '{label}'에 가깝게 들려요 (확신도 {confidence}).",
        "not_sure": "🤔 이번에는 확실하지 않아요. '{first}'({p1}) 또는 '{second}'({p2})처럼 들려요.",
        "timeline": "톤의 흐름: {steps}",
        "error.empty": "빈 파일이에요. 음성 메시지나 오디오 파일을 보내 주세요.",
        "error.undecodable": "이 파일에서 오디오를 읽을 수 없었어요. 음성 메시지나 오디오 파일(ogg, mp3, m4a, wav, flac)을 보내 주세요.",
        "error.no_audio": "이 파일에는 소리 트랙이 없어서 들을 목소리가 없어요.",
        "error.silent": "녹음에서 목소리가 들리지 않았어요. 무음이거나 거의 무음이에요.",
        "error.too_short": "녹음이 너무 짧아서 목소리 톤을 알기 어려워요. 1초 이상 말씀해 주세요.",
        "error.too_large": "파일이 너무 커요 (최대 {limit_mb:g}MB).",
        "error.too_long": "녹음이 너무 길어요 (최대 {limit_min:g}분). 더 짧게 보내 주세요.",
        "error.busy": "지금 음성 메시지가 많이 밀려 있어요. 1분 뒤에 다시 시도해 주세요.",
        "error.timeout": "처리가 너무 오래 걸렸어요. 1분 뒤에 다시 시도해 주세요.",
        "error.no_model": "아직 감정 모델이 설정되지 않아 지금은 들을 수 없어요.",
        "error.model_load": "감정 모델을 불러오지 못해 지금은 들을 수 없어요.",
        "error.error": "녹음을 듣는 중에 문제가 생겼어요. 다시 시도해 주세요.",
        "summary.title": "이 대화방의 분위기 ({period}): 음성 메시지 {count}개",
        "summary.period.today": "오늘",
        "summary.period.week": "이번 주",
        "summary.period.last": "최근 {n}개",
        "summary.empty": "{period} 분석된 음성 메시지가 아직 없어요.",
        "summary.shares": "들린 톤: {shares}",
        "summary.members": "사람별로 가장 자주 들린 톤: {members}",
        "summary.trend.up": "기간 동안 톤이 점점 밝아졌어요.",
        "summary.trend.down": "기간 동안 톤이 점점 어두워졌어요.",
        "summary.trend.steady": "기간 동안 톤이 비슷하게 유지됐어요.",
        "summary.place": "전체적으로 '{quadrant}' 쪽이에요 (긍정도 {valence:+.2f}, 활성도 {arousal:+.2f}).",
        "quadrant.upbeat": "활기찬",
        "quadrant.relaxed": "편안한",
        "quadrant.tense": "긴장된",
        "quadrant.low": "가라앉은",
        "quadrant.neutral": "중립적인",
        "chart.shares": "음성 메시지 비율",
        "chart.over_time": "시간에 따른 분위기",
        "chart.valence": "긍정도 (불쾌 → 유쾌)",
        "chart.arousal": "활성도 (차분 → 활기)",
        "chart.plane": "분위기의 위치",
        "chart.valence_short": "긍정도",
        "chart.arousal_short": "활성도",
        "chart.everyone": "전체",
    },
}


def t(lang: str, key: str, **params: Any) -> str:
    """The sentence `key` in `lang` (English when the language or key is unknown), filled in."""
    catalog = TEXT.get(lang, TEXT["en"])  # type: ignore[call-overload]
    template = catalog.get(key) or TEXT["en"][key]
    return template.format(**params)


def label_name(lang: str, label: str) -> str:
    names = LABEL_NAMES.get(lang, LABEL_NAMES["en"])  # type: ignore[call-overload]
    return names.get(label, label)


def percent(p: float) -> str:
    return f"{round(100 * p)}%"
