from hypothesis import given, strategies as st

from clonus_index.cleaning import clean_text, unescape


def test_decodes_entities_and_fixes_flattening_artefacts():
    raw = "Boyraz, I., Uysal, H., &amp; Sarman, H.  Infections , such as  meningitis  or  encephalitis , can"
    assert clean_text(raw) == ("Boyraz, I., Uysal, H., & Sarman, H. Infections, such as meningitis "
                               "or encephalitis, can")


def test_brackets_spaces_and_invisible_characters():
    assert clean_text("magnetic resonance imaging ( MRI ) to check") == \
        "magnetic resonance imaging (MRI) to check"
    assert clean_text("a\u00a0b\u2009c\u200bd soft\u00adhyphen") == "a b cd softhyphen"
    assert clean_text("  &lt;https://x.org/a&gt;  ") == "<https://x.org/a>"


def test_ellipsis_is_not_glued():
    assert clean_text("Thompson, A. J., ... Montalban, X.") == "Thompson, A. J., ... Montalban, X."


def test_double_escaped_entities_decode_fully():
    assert unescape("&amp;amp; &amp;lt;") == "& <"


@given(st.text())
def test_cleaning_is_idempotent(text):
    once = clean_text(text)
    assert clean_text(once) == once


@given(st.lists(st.sampled_from(["word", " ", "  ", ",", ".", "&amp;", "&nbsp;", "(", ")",
                                 "\u00a0", "\n", "&lt;", ";", "...", "&amp;amp;"]), max_size=40))
def test_cleaning_is_idempotent_on_artefact_soup(parts):
    once = clean_text("".join(parts))
    assert clean_text(once) == once
    assert "  " not in once and "&amp;" not in once
