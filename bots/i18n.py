"""Every sentence VoiceMood says, in English and Korean, in one place.

Replies speak of how the tone of voice *sounds*, never of what a person feels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
        "timeline_unsure": "{clock} 🤔 maybe {label} (not sure)",
        "cues.own": "Voice: {items} than usual",
        "cues.typical": "Voice: {items} than typical",
        "cues.own_same": "Voice: as usual",
        "cues.typical_same": "Voice: typical",
        "cue.pitch_hz.higher": "higher",
        "cue.pitch_hz.lower": "lower",
        "cue.loudness_db.higher": "louder",
        "cue.loudness_db.lower": "quieter",
        "cue.speech_rate.higher": "faster",
        "cue.speech_rate.lower": "slower",
        "cue.pitch_range_st.higher": "more varied",
        "cue.pitch_range_st.lower": "flatter",
        "cue.pause_share.higher": "with more pauses",
        "cue.pause_share.lower": "with fewer pauses",
        "error.empty": "That file is empty. Please send a voice note or an audio file.",
        "error.undecodable": "I couldn't read any audio in that file. Please send a voice note or an audio file (ogg, mp3, m4a, wav, flac).",
        "error.no_audio": "That file has no sound track, so there is no voice to listen to.",
        "error.silent": "I couldn't hear any voice in that recording: it is silent or almost silent.",
        "error.too_short": "That recording is too short to tell a tone of voice. Please send at least a second of speech.",
        "error.too_large": "That file is too large for me (the limit is {limit_mb:g} MB).",
        "error.too_long": "That recording is too long for me (the limit is {limit_min:g} minutes). Please send a shorter one.",
        "error.busy": "I'm busy with many voice notes right now. Please try again in a minute.",
        "error.cross_site": "This request came from another website, so it was refused. Please use VoiceMood's own page.",
        "error.timeout": "That took too long, sorry. Please try again in a minute.",
        "error.no_model": "No emotion model is set up yet, so I can't listen right now.",
        "error.model_load": "My emotion model could not be loaded, so I can't listen right now.",
        "error.error": "Something went wrong while listening to that recording. Please try again.",
        "error.storage_full": "⚠️ I couldn't save this, because my storage is full right now. Everything saved earlier is safe; please try again later.",
        "button.right": "👍 Sounds right",
        "button.wrong": "✏️ Not quite",
        "button.back": "↩️ Back",
        "button.optin": "✅ Analyse my voice notes",
        "button.forget_yes": "🗑 Yes, delete everything",
        "button.cancel": "Cancel",
        "pick.prompt": "How does the tone sound to you?",
        "vote.thanks": "Thanks, your vote is recorded: {label}.",
        "vote.gone": "That voice note is no longer stored, so I can't record a vote for it.",
        "vote.tally": "🗳 Votes: {tally}",
        "help.intro": (
            "I listen to voice notes and tell you how the tone of voice sounds, with how sure I am. "
            "I describe how a voice sounds, not what anyone feels, and I can be wrong: tap the "
            "buttons under an answer to correct me."
        ),
        "command.optin": "analyse my voice notes in this group",
        "command.optout": "stop analysing them here",
        "command.donate": "keep my voice notes to improve the model (off by default)",
        "command.baseline": "learn how my voice usually sounds and read my notes against it",
        "command.transcript": "show my notes' words under the tone (in a group: admins allow it there)",
        "command.summary": "the mood of this chat, with a chart",
        "command.digest": "a daily summary in this chat",
        "command.lang": "answer in English or Korean",
        "command.analysis": "switch analysis off for the whole chat (admins)",
        "command.privacy": "what I keep and why",
        "command.forget": "delete everything I keep about you",
        "privacy": (
            "What I keep: for each analysed voice note, who sent it, where and when, its length, "
            "the model version and its answer – never the audio itself, unless you switched on "
            "/donate. With /donate on, your voice notes are kept to retrain and re-evaluate the "
            "model; /donate off deletes the kept audio. With /baseline on, I keep running "
            "averages of how your voice usually sounds (numbers, never audio) to read the tone of "
            "your notes against your usual voice; /baseline off deletes them. Corrections you "
            "give are kept with your id. In groups I only analyse members who opted in. /forget deletes everything about "
            "you, everywhere, at once. Emotion recognition must not be used to monitor people in "
            "workplaces or classrooms (EU AI Act, Art. 5(1)(f))."
        ),
        "group.intro": (
            "👋 Hi, I'm VoiceMood. I listen to the voice notes of members who opt in and say how "
            "their tone of voice sounds, with how sure I am. I don't keep audio unless its "
            "speaker donates it. Tap the button or send /optin to take part; /optout stops it, "
            "/forget deletes everything about you. Please don't use me to monitor people at work "
            "or in class: emotion recognition is not allowed there (EU AI Act, Art. 5(1)(f))."
        ),
        "optin.done": "✅ {name}, I'll analyse your voice notes in this chat. /optout stops it.",
        "optin.private": "In a private chat every voice note you send me is analysed; there is nothing to switch on. In a group, send /optin there.",
        "optin.off_in_chat": "Analysis is switched off in this chat by its admins, so I won't analyse voice notes here for now.",
        "optout.done": "🛑 {name}, I won't analyse your voice notes in this chat any more. Past answers stay until you send /forget.",
        "optout.none": "You haven't opted in here, so there is nothing to stop.",
        "donate.on": "💚 Thank you! From now on I keep your voice notes to improve the model. /donate off stops it and deletes the kept audio.",
        "donate.off": "Your voice notes are no longer kept, and the {count} I had kept are deleted.",
        "donate.usage": "Send /donate on to let me keep your voice notes for retraining, or /donate off to stop.",
        "baseline.on": "🎚 Baseline on. I now keep running averages of how your voice usually sounds (numbers, never audio) and read the tone of your notes against your usual voice. /baseline off deletes them.",
        "baseline.off": "Baseline off. The averages of your usual voice are deleted.",
        "baseline.status_on": "🎚 Your baseline is on: I have learned your usual voice from {count} notes. /baseline off deletes it.",
        "baseline.status_off": "Your baseline is off. With /baseline on, VoiceMood keeps running averages of how your voice usually sounds (numbers, never audio) and reads your notes against your usual voice; /baseline off deletes them.",
        "baseline.usage": "Send /baseline on, /baseline off, or /baseline to see whether it is on.",
        "transcript.on": "📝 Transcript on. I'll write the words of your voice notes under the tone, here and in groups whose admins allow it. The words are never kept. /transcript off stops it.",
        "transcript.off": "Transcript off. Your voice notes get the tone only.",
        "transcript.status_on": "📝 Your transcript is on: the words of your voice notes appear under the tone. /transcript off stops it.",
        "transcript.status_off": "Your transcript is off. With /transcript on, I write the words of your voice notes under the tone (never keeping them).",
        "transcript.chat_on": "📝 Transcripts are allowed in this chat: members who switched /transcript on for themselves see their words under the tone here.",
        "transcript.chat_off": "Transcripts are off in this chat: no words are shown under the tone here.",
        "transcript.usage": "Send /transcript on, /transcript off, or /transcript to see whether it is on.",
        "transcript.words": "📝 “{words}”",
        "transcript.silent": "📝 (I heard no words)",
        "forget.confirm": "This deletes everything I keep about you, in every chat: your analysed notes, votes, consents, your voice baseline and any kept audio. Are you sure?",
        "forget.done": "🗑 Done. I deleted everything about you: {notes} notes, {votes} votes, {audio} audio files.",
        "forget.nothing": "I don't keep anything about you.",
        "forget.cancelled": "Nothing was deleted.",
        "forget.not_yours": "Only the person who asked can confirm this.",
        "command.history": "a chart of how your own voice sounded this week or month (private chat)",
        "command.export": "a copy of everything I keep about you, as CSV and JSON (private chat)",
        "command.words": "your own words for tones, e.g. /words angry tense; /words reset",
        "private_only": "I send that only in a private chat with you, so nothing of yours shows up here. Please message me directly.",
        "history.usage": "Send /history week or /history month.",
        "history.period.week": "this week",
        "history.period.month": "this month",
        "history.title": "How your voice sounded {period}",
        "history.caption": "How your voice sounded {period}: {count} voice notes. Tones heard: {shares}",
        "history.empty": "I have no analysed voice notes of yours {period} yet.",
        "history.axis": "voice notes",
        "export.done": "Here is everything I keep about you: a CSV with one row per stored item, and a JSON file that says what each part is. /forget deletes it all.",
        "export.nothing": "I don't keep anything about you.",
        "words.set": "From now on I'll say “{word}” for {label} in your answers and your chart. The usual name stays underneath for training and summaries.",
        "words.list": "Your words: {items}. /words reset goes back to the usual names.",
        "words.none": "You haven't chosen any words yet. Send, for example, /words angry tense to hear “tense” where I would say angry.",
        "words.reset": "Back to the usual names ({count} of your words removed).",
        "words.usage": "Send /words <tone> <your word> (e.g. /words angry tense), /words to list yours, or /words reset.",
        "words.bad_label": "I don't know the tone “{label}”. The tones are: {labels}.",
        "words.bad_word": "Your word must be 1 to {limit} characters.",
        "lang.done": "I'll answer you in English.",
        "lang.usage": "Send /lang en or /lang ko.",
        "summary.usage": "Send /summary today, /summary week, or /summary 20 for the last 20 notes.",
        "digest.on": "📬 I'll post a daily mood summary here at {time} UTC. /digest off stops it.",
        "digest.off": "The daily summary is off.",
        "digest.usage": "Send /digest on [HH:MM] or /digest off.",
        "analysis.on": "Analysis is on in this chat again for members who opted in.",
        "analysis.off": "Analysis is off in this chat. Nothing will be analysed here until an admin sends /analysis on.",
        "analysis.usage": "Send /analysis on or /analysis off.",
        "admins_only": "Only the chat's admins can change that.",
        "groups_only": "That works in group chats.",
        "unknown_command": "I don't know that command. Send /help to see what I can do.",
        "download_failed": "I couldn't download that file. Please try sending it again.",
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
        "chart.title": "How voices sounded in this chat {period}\n{count} voice notes",
        "chart.shares": "Share of voice notes",
        "chart.over_time": "Tone over time",
        "chart.valence": "valence (unpleasant → pleasant)",
        "chart.arousal": "arousal (calm → energetic)",
        "chart.plane": "Where each voice sat (dots: people, star: everyone)",
        "chart.valence_short": "valence (pleasant)",
        "chart.arousal_short": "arousal (energy)",
        "chart.everyone": "everyone",
        # The web page and HTTP API (bots/web).
        "web.tagline": "Hear how the tone of a voice sounds: record a few seconds, or choose an audio file.",
        "web.record": "🎙 Record",
        "web.stop": "⏹ Stop and listen",
        "web.recording": "Recording… {seconds} s",
        "web.pick": "Choose an audio file",
        "web.drop": "or drop it here",
        "web.listening": "Listening…",
        "web.mic_denied": "I couldn't use the microphone. Allow it in the browser, or choose an audio file instead.",
        "web.mic_unavailable": "Recording needs a secure page (https, or this computer's own address). You can still choose an audio file.",
        "web.offline": "You're offline. Listening needs the connection to VoiceMood.",
        "web.donate": "Donate this recording to improve the model",
        "web.donate_explain": (
            "Without this box ticked nothing is kept: the recording is analysed and thrown away, "
            "and a correction is only thanked. Tick it before analysing and the recording, its "
            "answer and your correction are kept under an anonymous id held in a cookie of this "
            "browser, and used to retrain the model like voice notes donated in the chat bots."
        ),
        "web.forget": "Delete what I donated",
        "web.feedback_not_stored": "Thanks! Nothing was stored, because this recording was not donated.",
        "web.top": "Closest readings",
        "web.map": "Where this tone sits",
        "web.map_note": "this note",
        "web.honest": "VoiceMood describes how a voice sounds, not what anyone feels, and it can be wrong.",
        "web.not_for_monitoring": "Please don't use it to monitor people at work or in class: emotion recognition is not allowed there (EU AI Act, Art. 5(1)(f)).",
        "web.other_language": "한국어",
        "error.no_file": "Please attach an audio file (the form field is called “audio”).",
        "error.bad_request": "I couldn't understand that request. Please send the audio as a multipart form upload.",
        "error.bad_label": "That is not one of the tones I know.",
    },
    "ko": {
        "answer": "{emoji} 목소리 톤이 '{label}'에 가깝게 들려요 (확신도 {confidence}).",
        "not_sure": "🤔 이번에는 확실하지 않아요. '{first}'({p1}) 또는 '{second}'({p2})처럼 들려요.",
        "timeline": "톤의 흐름: {steps}",
        "timeline_unsure": "{clock} 🤔 '{label}'일지도 몰라요 (확실하지 않음)",
        "cues.own": "목소리: 평소보다 {items}",
        "cues.typical": "목소리: 비슷한 높이의 목소리보다 {items}",
        "cues.own_same": "목소리: 평소와 비슷함",
        "cues.typical_same": "목소리: 비슷한 높이의 목소리와 비슷함",
        "cue.pitch_hz.higher": "더 높음",
        "cue.pitch_hz.lower": "더 낮음",
        "cue.loudness_db.higher": "더 큼",
        "cue.loudness_db.lower": "더 작음",
        "cue.speech_rate.higher": "더 빠름",
        "cue.speech_rate.lower": "더 느림",
        "cue.pitch_range_st.higher": "억양 변화가 큼",
        "cue.pitch_range_st.lower": "억양이 단조로움",
        "cue.pause_share.higher": "쉼이 많음",
        "cue.pause_share.lower": "쉼이 적음",
        "error.empty": "빈 파일이에요. 음성 메시지나 오디오 파일을 보내 주세요.",
        "error.undecodable": "이 파일에서 오디오를 읽을 수 없었어요. 음성 메시지나 오디오 파일(ogg, mp3, m4a, wav, flac)을 보내 주세요.",
        "error.no_audio": "이 파일에는 소리 트랙이 없어서 들을 목소리가 없어요.",
        "error.silent": "녹음에서 목소리가 들리지 않았어요. 무음이거나 거의 무음이에요.",
        "error.too_short": "녹음이 너무 짧아서 목소리 톤을 알기 어려워요. 1초 이상 말씀해 주세요.",
        "error.too_large": "파일이 너무 커요 (최대 {limit_mb:g}MB).",
        "error.too_long": "녹음이 너무 길어요 (최대 {limit_min:g}분). 더 짧게 보내 주세요.",
        "error.busy": "지금 음성 메시지가 많이 밀려 있어요. 1분 뒤에 다시 시도해 주세요.",
        "error.cross_site": "다른 웹사이트에서 온 요청이라 거절했어요. VoiceMood 페이지에서 직접 해 주세요.",
        "error.timeout": "처리가 너무 오래 걸렸어요. 1분 뒤에 다시 시도해 주세요.",
        "error.no_model": "아직 감정 모델이 설정되지 않아 지금은 들을 수 없어요.",
        "error.model_load": "감정 모델을 불러오지 못해 지금은 들을 수 없어요.",
        "error.error": "녹음을 듣는 중에 문제가 생겼어요. 다시 시도해 주세요.",
        "error.storage_full": "⚠️ 지금 저장 공간이 가득 차서 이 내용을 저장하지 못했어요. 이전에 저장된 내용은 모두 안전해요. 나중에 다시 시도해 주세요.",
        "button.right": "👍 맞아요",
        "button.wrong": "✏️ 조금 달라요",
        "button.back": "↩️ 돌아가기",
        "button.optin": "✅ 내 음성 메시지 분석하기",
        "button.forget_yes": "🗑 네, 모두 삭제해 주세요",
        "button.cancel": "취소",
        "pick.prompt": "어떤 톤으로 들리나요?",
        "vote.thanks": "고마워요. 투표가 기록됐어요: {label}.",
        "vote.gone": "이 음성 메시지는 더 이상 저장되어 있지 않아 투표를 기록할 수 없어요.",
        "vote.tally": "🗳 투표: {tally}",
        "help.intro": (
            "음성 메시지를 듣고 목소리 톤이 어떻게 들리는지, 얼마나 확신하는지 알려 드려요. "
            "누군가의 감정이 아니라 목소리가 어떻게 들리는지를 말하는 것이고, 틀릴 수도 있어요. "
            "답변 아래 버튼으로 고쳐 주세요."
        ),
        "command.optin": "이 그룹에서 내 음성 메시지 분석하기",
        "command.optout": "이 그룹에서 분석 멈추기",
        "command.donate": "모델 개선을 위해 내 음성 보관하기 (기본은 꺼짐)",
        "command.baseline": "평소 내 목소리를 익혀 그에 비추어 듣기",
        "command.transcript": "톤 아래에 내 음성 메시지의 말을 보여 주기 (그룹에서는 관리자가 허용)",
        "command.summary": "이 대화방의 분위기와 차트",
        "command.digest": "매일 이 대화방 요약 받기",
        "command.lang": "영어 또는 한국어로 답하기",
        "command.analysis": "대화방 전체 분석 켜기/끄기 (관리자)",
        "command.privacy": "무엇을 왜 보관하는지",
        "command.forget": "나에 대한 모든 기록 삭제",
        "privacy": (
            "보관하는 것: 분석한 음성 메시지마다 보낸 사람, 장소와 시간, 길이, 모델 버전과 그 답변. "
            "/donate를 켜지 않으면 음성 자체는 절대 보관하지 않아요. /donate on이면 모델을 다시 "
            "학습하고 평가하기 위해 음성을 보관하고, /donate off는 보관한 음성을 삭제해요. "
            "/baseline on이면 평소 목소리가 어떻게 들리는지의 평균값(숫자일 뿐, 음성은 아님)을 "
            "보관해 평소 목소리에 비추어 톤을 읽고, /baseline off는 그 값을 삭제해요. "
            "고쳐 주신 답은 내 ID와 함께 보관돼요. 그룹에서는 동의한 멤버만 분석해요. "
            "/forget은 모든 곳에서 나에 대한 모든 기록을 한 번에 삭제해요. 직장이나 교실에서 "
            "사람을 감시하는 데 감정 인식을 쓰면 안 돼요 (EU AI Act 제5조 1항 (f))."
        ),
        "group.intro": (
            "👋 안녕하세요, VoiceMood예요. 동의한 멤버의 음성 메시지를 듣고 목소리 톤이 어떻게 "
            "들리는지, 얼마나 확신하는지 알려 드려요. 말한 사람이 기부하지 않는 한 음성은 "
            "보관하지 않아요. 참여하려면 버튼을 누르거나 /optin을 보내 주세요. /optout은 멈추고, "
            "/forget은 나에 대한 모든 기록을 삭제해요. 직장이나 교실에서 사람을 감시하는 데 쓰지 "
            "말아 주세요. 그곳에서의 감정 인식은 금지되어 있어요 (EU AI Act 제5조 1항 (f))."
        ),
        "optin.done": "✅ {name}님, 이 대화방에서 음성 메시지를 분석할게요. /optout으로 멈출 수 있어요.",
        "optin.private": "개인 대화에서는 보내 주신 음성 메시지를 모두 분석해요. 따로 켤 필요가 없어요. 그룹에서는 그 그룹에서 /optin을 보내 주세요.",
        "optin.off_in_chat": "관리자가 이 대화방의 분석을 꺼 두어서 지금은 여기서 음성 메시지를 분석하지 않아요.",
        "optout.done": "🛑 {name}님, 이제 이 대화방에서 음성 메시지를 분석하지 않을게요. 지난 답변은 /forget을 보낼 때까지 남아 있어요.",
        "optout.none": "여기서 동의하신 적이 없어서 멈출 것이 없어요.",
        "donate.on": "💚 고마워요! 이제부터 모델 개선을 위해 음성 메시지를 보관할게요. /donate off로 멈추고 보관한 음성을 삭제할 수 있어요.",
        "donate.off": "이제 음성 메시지를 보관하지 않아요. 보관하던 {count}개는 삭제했어요.",
        "donate.usage": "재학습을 위해 음성 보관을 허락하려면 /donate on, 멈추려면 /donate off를 보내 주세요.",
        "transcript.on": "📝 받아쓰기를 켰어요. 여기와 관리자가 허용한 그룹에서 음성 메시지의 말을 톤 아래에 적어 드려요. 말은 절대 보관하지 않아요. /transcript off로 끌 수 있어요.",
        "transcript.off": "받아쓰기를 껐어요. 음성 메시지에는 톤만 알려 드려요.",
        "transcript.status_on": "📝 받아쓰기가 켜져 있어요: 음성 메시지의 말이 톤 아래에 보여요. /transcript off로 끌 수 있어요.",
        "transcript.status_off": "받아쓰기가 꺼져 있어요. /transcript on을 보내면 음성 메시지의 말을 톤 아래에 적어 드려요 (보관하지 않아요).",
        "transcript.chat_on": "📝 이 대화방에서 받아쓰기가 허용됐어요: 스스로 /transcript on을 켠 멤버는 여기서 톤 아래에 자기 말을 볼 수 있어요.",
        "transcript.chat_off": "이 대화방에서는 받아쓰기가 꺼져 있어요: 톤 아래에 말을 보여 주지 않아요.",
        "transcript.usage": "/transcript on, /transcript off, 또는 켜져 있는지 보려면 /transcript 를 보내 주세요.",
        "transcript.words": "📝 “{words}”",
        "transcript.silent": "📝 (말은 들리지 않았어요)",
        "baseline.on": "🎚 기준 목소리를 켰어요. 이제 평소 목소리가 어떻게 들리는지의 평균값(숫자일 뿐, 음성은 아님)을 보관하고, 평소 목소리에 비추어 음성 메시지의 톤을 읽어요. /baseline off로 삭제할 수 있어요.",
        "baseline.off": "기준 목소리를 껐어요. 평소 목소리의 평균값을 삭제했어요.",
        "baseline.status_on": "🎚 기준 목소리가 켜져 있어요. 지금까지 음성 메시지 {count}개로 평소 목소리를 익혔어요. /baseline off로 삭제할 수 있어요.",
        "baseline.status_off": "기준 목소리가 꺼져 있어요. /baseline on이면 VoiceMood가 평소 목소리가 어떻게 들리는지의 평균값(숫자일 뿐, 음성은 아님)을 보관해 평소 목소리에 비추어 음성 메시지를 읽고, /baseline off는 그 값을 삭제해요.",
        "baseline.usage": "/baseline on, /baseline off, 또는 켜져 있는지 보려면 /baseline을 보내 주세요.",
        "forget.confirm": "모든 대화방에서 나에 대한 모든 기록(분석한 메시지, 투표, 동의, 기준 목소리, 보관한 음성)을 삭제해요. 정말 삭제할까요?",
        "forget.done": "🗑 삭제했어요. 메시지 {notes}개, 투표 {votes}개, 음성 파일 {audio}개를 지웠어요.",
        "forget.nothing": "보관하고 있는 기록이 없어요.",
        "forget.cancelled": "아무것도 삭제하지 않았어요.",
        "forget.not_yours": "요청한 사람만 확인할 수 있어요.",
        "command.history": "이번 주나 이번 달 내 목소리가 어떻게 들렸는지 보여 주는 차트 (개인 대화)",
        "command.export": "저장된 내 정보 전부를 CSV와 JSON으로 받기 (개인 대화)",
        "command.words": "톤을 내 말로 부르기, 예: /words angry 긴장; /words reset",
        "private_only": "이건 개인 대화에서만 보내 드려요. 여기에는 아무것도 보이지 않아요. 저에게 직접 메시지를 보내 주세요.",
        "history.usage": "/history week 또는 /history month를 보내 주세요.",
        "history.period.week": "이번 주",
        "history.period.month": "이번 달",
        "history.title": "{period} 내 목소리는 이렇게 들렸어요",
        "history.caption": "{period} 내 목소리는 이렇게 들렸어요: 음성 메시지 {count}개. 들린 톤: {shares}",
        "history.empty": "{period} 분석된 음성 메시지가 아직 없어요.",
        "history.axis": "음성 메시지",
        "export.done": "저장된 정보 전부예요: 저장된 항목마다 한 줄인 CSV와, 각 부분이 무엇인지 설명한 JSON 파일이에요. /forget 하면 모두 지워져요.",
        "export.nothing": "저장된 정보가 없어요.",
        "words.set": "이제부터 답과 차트에서 {label} 대신 “{word}”라고 할게요. 학습과 요약에는 원래 이름이 그대로 쓰여요.",
        "words.list": "내 말: {items}. /words reset 하면 원래 이름으로 돌아가요.",
        "words.none": "아직 정한 말이 없어요. 예를 들어 /words angry 긴장 을 보내면 화남 대신 “긴장”이라고 할게요.",
        "words.reset": "원래 이름으로 돌아갔어요 (내 말 {count}개 삭제).",
        "words.usage": "/words <톤> <내 말> (예: /words angry 긴장), 목록은 /words, 되돌리기는 /words reset.",
        "words.bad_label": "“{label}”은(는) 제가 아는 톤이 아니에요. 톤: {labels}.",
        "words.bad_word": "내 말은 1~{limit}자여야 해요.",
        "lang.done": "이제 한국어로 답할게요.",
        "lang.usage": "/lang en 또는 /lang ko를 보내 주세요.",
        "summary.usage": "/summary today, /summary week, 또는 최근 20개는 /summary 20을 보내 주세요.",
        "digest.on": "📬 매일 UTC {time}에 이 대화방의 분위기 요약을 올릴게요. /digest off로 멈출 수 있어요.",
        "digest.off": "매일 요약을 껐어요.",
        "digest.usage": "/digest on [HH:MM] 또는 /digest off를 보내 주세요.",
        "analysis.on": "이 대화방에서 동의한 멤버의 분석을 다시 시작했어요.",
        "analysis.off": "이 대화방의 분석을 껐어요. 관리자가 /analysis on을 보낼 때까지 분석하지 않아요.",
        "analysis.usage": "/analysis on 또는 /analysis off를 보내 주세요.",
        "admins_only": "대화방 관리자만 바꿀 수 있어요.",
        "groups_only": "그룹 대화방에서 쓸 수 있어요.",
        "unknown_command": "모르는 명령이에요. /help를 보내면 할 수 있는 일을 볼 수 있어요.",
        "download_failed": "파일을 내려받지 못했어요. 다시 보내 주세요.",
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
        "chart.title": "{period} 이 대화방의 목소리는 이렇게 들렸어요\n음성 메시지 {count}개",
        "chart.shares": "음성 메시지 비율",
        "chart.over_time": "시간에 따른 목소리 톤",
        "chart.valence": "긍정도 (불쾌 → 유쾌)",
        "chart.arousal": "활성도 (차분 → 활기)",
        "chart.plane": "목소리의 위치 (점: 사람, 별: 전체)",
        "chart.valence_short": "긍정도",
        "chart.arousal_short": "활성도",
        "chart.everyone": "전체",
        # The web page and HTTP API (bots/web).
        "web.tagline": "목소리 톤이 어떻게 들리는지 알아보세요. 몇 초 녹음하거나 오디오 파일을 고르세요.",
        "web.record": "🎙 녹음하기",
        "web.stop": "⏹ 멈추고 듣기",
        "web.recording": "녹음 중… {seconds}초",
        "web.pick": "오디오 파일 고르기",
        "web.drop": "또는 여기에 끌어다 놓기",
        "web.listening": "듣는 중…",
        "web.mic_denied": "마이크를 쓸 수 없었어요. 브라우저에서 허용하거나 오디오 파일을 골라 주세요.",
        "web.mic_unavailable": "녹음은 보안 페이지(https 또는 이 컴퓨터 자신의 주소)에서만 돼요. 오디오 파일은 고를 수 있어요.",
        "web.offline": "오프라인 상태예요. 들으려면 VoiceMood에 연결되어 있어야 해요.",
        "web.donate": "모델 개선을 위해 이 녹음 기부하기",
        "web.donate_explain": (
            "체크하지 않으면 아무것도 보관하지 않아요. 녹음은 분석한 뒤 버리고, 고쳐 주신 답에는 "
            "감사 인사만 해요. 분석 전에 체크하면 녹음, 그 답변, 고쳐 주신 답을 이 브라우저의 "
            "쿠키에 담긴 익명 ID로 보관하고, 채팅 봇에서 기부된 음성 메시지처럼 모델을 다시 "
            "학습하는 데 써요."
        ),
        "web.forget": "기부한 기록 삭제하기",
        "web.feedback_not_stored": "고마워요! 이 녹음은 기부되지 않아서 아무것도 저장하지 않았어요.",
        "web.top": "가까운 톤",
        "web.map": "이 톤의 위치",
        "web.map_note": "이 녹음",
        "web.honest": "VoiceMood는 누군가의 감정이 아니라 목소리가 어떻게 들리는지를 말하고, 틀릴 수도 있어요.",
        "web.not_for_monitoring": "직장이나 교실에서 사람을 감시하는 데 쓰지 말아 주세요. 그곳에서의 감정 인식은 금지되어 있어요 (EU AI Act 제5조 1항 (f)).",
        "web.other_language": "English",
        "error.no_file": "오디오 파일을 첨부해 주세요 (폼 필드 이름은 “audio”예요).",
        "error.bad_request": "요청을 이해하지 못했어요. 오디오를 multipart 폼으로 올려 주세요.",
        "error.bad_label": "제가 아는 톤이 아니에요.",
    },
}


# Sentences made from other parts rather than kept here: "help" is generated from the one command
# table (bots.core.commands registers it), so no list of commands is kept twice.
_GENERATED: dict[str, Callable[[str], str]] = {}


def generated(key: str, make: Callable[[str], str]) -> None:
    """Let `t(lang, key)` be `make(lang)`."""
    _GENERATED[key] = make


def t(lang: str, key: str, **params: Any) -> str:
    """The sentence `key` in `lang` (English when the language or key is unknown), filled in."""
    if key in _GENERATED:
        return _GENERATED[key](lang)
    catalog = TEXT.get(lang, TEXT["en"])  # type: ignore[call-overload]
    template = catalog.get(key) or TEXT["en"][key]
    return template.format(**params)


def label_name(lang: str, label: str, words: Mapping[str, str] | None = None) -> str:
    """The label's name in `lang`, or the person's own word for it (/words) when they chose one."""
    if words and label in words:
        return words[label]
    names = LABEL_NAMES.get(lang, LABEL_NAMES["en"])  # type: ignore[call-overload]
    return names.get(label, label)


def percent(p: float) -> str:
    return f"{round(100 * p)}%"
