"""Telegram's admin answers are reused for a minute and never pile up past their bound."""

from bots.telegram.admins import AdminCache


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_reused_until_it_expires():
    clock = _Clock()
    cache = AdminCache(ttl_s=60, max_pairs=10, clock=clock)
    cache.put(-100, 1, True)
    cache.put(-100, 2, False)

    clock.now += 59
    assert cache.get(-100, 1) is True
    assert cache.get(-100, 2) is False
    assert cache.get(-200, 1) is None  # another chat is another question

    clock.now += 1
    assert cache.get(-100, 1) is None
    assert len(cache) == 0


def test_a_bot_in_many_chats_keeps_at_most_the_bound_and_the_newest_answers():
    clock = _Clock()
    cache = AdminCache(ttl_s=60, max_pairs=100, clock=clock)
    for chat in range(50):
        for user in range(20):
            cache.put(-chat, user, user % 3 == 0)
            assert len(cache) <= 100

    assert len(cache) == 100
    # The 100 newest (the last five chats) are still answered, each with its own answer.
    for chat in range(45, 50):
        for user in range(20):
            assert cache.get(-chat, user) is (user % 3 == 0)
    assert cache.get(-44, 19) is None  # evicted: asked again next time


def test_expired_answers_are_dropped_even_without_being_asked_again():
    clock = _Clock()
    cache = AdminCache(ttl_s=60, max_pairs=1000, clock=clock)
    for user in range(500):
        cache.put(-1, user, False)
    clock.now += 61
    cache.put(-2, 1, True)  # any later answer sweeps out the stale ones

    assert len(cache) == 1
    assert cache.get(-2, 1) is True


def test_a_fresh_answer_replaces_the_old_one_and_lives_its_own_minute():
    clock = _Clock()
    cache = AdminCache(ttl_s=60, max_pairs=10, clock=clock)
    cache.put(-1, 7, False)
    cache.put(-1, 8, False)
    clock.now += 30
    cache.put(-1, 7, True)  # promoted, and asked again
    clock.now += 45  # the first answers are stale by now...

    assert cache.get(-1, 7) is True  # ...but 7's answer is fresh
    assert cache.get(-1, 8) is None
    assert len(cache) == 1
