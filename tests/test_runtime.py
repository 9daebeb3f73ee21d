from inference.runtime import TUNED_MALLOC_ENV, with_tuned_allocator


def test_an_untuned_environment_gets_the_allocator_settings_and_keeps_its_own():
    env = with_tuned_allocator({"PATH": "/usr/bin", "VOICEMOOD_MODEL": "x"})
    assert env is not None
    assert env["PATH"] == "/usr/bin" and env["VOICEMOOD_MODEL"] == "x"
    assert all(env[key] == value for key, value in TUNED_MALLOC_ENV.items())


def test_an_already_tuned_environment_needs_no_restart():
    assert with_tuned_allocator({"PATH": "/usr/bin", **TUNED_MALLOC_ENV}) is None


def test_a_value_the_operator_chose_is_kept():
    env = with_tuned_allocator({"MALLOC_TOP_PAD_": "0"})
    assert env is not None and env["MALLOC_TOP_PAD_"] == "0"
    assert env["MALLOC_MMAP_THRESHOLD_"] == TUNED_MALLOC_ENV["MALLOC_MMAP_THRESHOLD_"]


def test_preloaded_jemalloc_counts_as_tuned():
    assert with_tuned_allocator({"LD_PRELOAD": "/usr/lib/libjemalloc.so.2"}) is None
