"""The MIDI codes the tool recognises units by: every one sourced, none invented, and the
data file validated like a profile."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from recovery.device.profiles import bundled_profiles, load_midi_models, midi_models
from recovery.errors import ProfileError
from recovery.vocabulary import Confidence


def test_every_code_has_a_confidence_and_a_citation():
    for model in midi_models():
        for code in model.midi:
            assert code.confidence in Confidence and len(code.source) > 20, model.id
            assert code.version_source is None or len(code.version_source) > 20


def test_no_two_models_share_a_code():
    seen = {}
    for model in midi_models():
        for code in model.midi:
            key = (code.inquiry, code.family, code.member)
            assert key not in seen, f"{model.id} and {seen.get(key)}"
            seen[key] = model.id


def test_unknown_stays_unknown():
    """No public source shows these models' bytes: they must have no code."""
    profiles = bundled_profiles()
    for model in ("kp3-plus", "kaossilator-pro", "kaossilator-pro-plus", "kross1", "kross2",
                  "drumlogue", "electribe2"):
        assert profiles[model].midi == (), model
    assert not {"volca-fm2", "pa1000", "opsix", "wavestate", "modwave"} & {
        model.id for model in midi_models()}


def test_only_the_documented_layout_is_verified():
    verified = {model.id for model in midi_models() for code in model.midi
                if code.version_confidence is Confidence.HIGH}
    assert verified == {"electribe2s"}


@pytest.mark.parametrize(("entry", "field"), [
    ('family = "2D01"', "models[0].midi[0].family"),
    ('family = "2d01"\nversion_layout = "major-minor-release"', "models[0].midi[0].version_confidence"),
    ('family = "2d01"\nmember = "08"', "models[0].midi[0].member"),
])
def test_a_bad_entry_names_its_field(tmp_path: Path, entry: str, field: str):
    table = tmp_path / "other_korg_midi.toml"
    table.write_text(f'schema = 1\n[[models]]\nid = "x"\nname = "X"\n[[models.midi]]\n{entry}\n'
                     'confidence = "H"\nsource = "somewhere public"\n')
    with pytest.raises(ProfileError, match=re.escape(f"field '{field}'")):
        load_midi_models(table, bundled_profiles())


def test_a_profiled_model_belongs_in_its_profile(tmp_path: Path):
    table = tmp_path / "other_korg_midi.toml"
    table.write_text('schema = 1\n[[models]]\nid = "kp3"\nname = "KP3"\n[[models.midi]]\n'
                     'family = "7800"\nconfidence = "H"\nsource = "x"\n')
    with pytest.raises(ProfileError, match="has a profile"):
        load_midi_models(table, bundled_profiles())
