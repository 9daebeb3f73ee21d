"""What a button does, as one typed value that writes and reads its own button data.

The encoded form ("ok:12", "lab:12:sad", "forget:yes:101", "practice:next", "music:12", ...) is
what Telegram's callback data and Discord's custom_id carry, so buttons under old messages keep working across restarts; it
must stay within Telegram's 64 bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

from bots.core.values import Button
from bots.i18n import EMOJI, label_name, t
from inference.labels import CANONICAL_LABELS

# Labels a person can pick when correcting an answer ("other" is not a useful correction).
PICKABLE_LABELS = tuple(label for label in CANONICAL_LABELS if label != "other")

ButtonKind = Literal["ok", "pick", "back", "lab", "optin", "forget", "practice", "music"]
Keyboard = tuple[tuple[Button, ...], ...]

_PATTERN = re.compile(
    r"(?P<kind>ok|pick|back|music):(?P<note>\d+)"
    r"|lab:(?P<lab_note>\d+):(?P<label>[a-z_]+)"
    r"|optin"
    r"|forget:(?P<answer>yes|no):(?P<owner>.+)"
    r"|practice:(?P<step>next|stop)"
)


@dataclass(frozen=True)
class ButtonAction:
    """One button's meaning: confirm, pick, go back, vote a label, opt in, answer /forget,
    practise (next round, stop), or ask for music for a note's mood."""

    kind: ButtonKind
    note_id: int | None = None
    label: str | None = None
    # For "forget": whether the tap said yes, and whose data it may delete.
    yes: bool = False
    owner: str | None = None
    # For "practice": "next" (a new round) or "stop" (end the session).
    step: str | None = None

    def encode(self) -> str:
        """The button data for this action."""
        if self.kind in ("ok", "pick", "back", "music"):
            return f"{self.kind}:{self.note_id}"
        if self.kind == "lab":
            return f"lab:{self.note_id}:{self.label}"
        if self.kind == "forget":
            return f"forget:{'yes' if self.yes else 'no'}:{self.owner}"
        if self.kind == "practice":
            return f"practice:{self.step}"
        return self.kind

    @classmethod
    def decode(cls, data: str) -> ButtonAction | None:
        """The action a button's data stands for; None for data no VoiceMood button carries."""
        found = _PATTERN.fullmatch(data)
        if found is None:
            return None
        if found["kind"]:
            kind = cast(ButtonKind, found["kind"])  # the pattern allows only these four
            return cls(kind, note_id=int(found["note"]))
        if found["lab_note"]:
            return cls("lab", note_id=int(found["lab_note"]), label=found["label"])
        if found["answer"]:
            return cls("forget", yes=found["answer"] == "yes", owner=found["owner"])
        if found["step"]:
            return cls("practice", step=found["step"])
        return cls("optin")

    def button(self, text: str) -> Button:
        return Button(text, self.encode())


def feedback_buttons(note_id: int, lang: str) -> Keyboard:
    """Under an answer: "right" and "wrong, let me pick"; below them, songs for its mood."""
    return (
        (
            ButtonAction("ok", note_id).button(t(lang, "button.right")),
            ButtonAction("pick", note_id).button(t(lang, "button.wrong")),
        ),
        (ButtonAction("music", note_id).button(t(lang, "button.music")),),
    )


def label_buttons(note_id: int, lang: str) -> Keyboard:
    """Every pickable label, three to a row, and a way back."""
    buttons = [
        ButtonAction("lab", note_id, label).button(f"{EMOJI[label]} {label_name(lang, label)}")
        for label in PICKABLE_LABELS
    ]
    rows = [tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3)]
    return (*rows, (ButtonAction("back", note_id).button(t(lang, "button.back")),))


def optin_buttons(lang: str) -> Keyboard:
    return ((ButtonAction("optin").button(t(lang, "button.optin")),),)


def forget_buttons(owner: str, lang: str) -> Keyboard:
    return (
        (
            ButtonAction("forget", yes=True, owner=owner).button(t(lang, "button.forget_yes")),
            ButtonAction("forget", yes=False, owner=owner).button(t(lang, "button.cancel")),
        ),
    )
