import pytest

from clonus_index import ingest
from clonus_index.reading import Block, read_html
from clonus_index.sections import (asks_definition, classify_heading, intent_kinds, place_blocks)
from clonus_index.pipeline import ingest_document

from conftest import DATA, passage_with


def _runs(passages):
    """Sections in reading order, each once per contiguous run."""
    runs = []
    for p in passages:
        if not runs or runs[-1] != p.section:
            runs.append(p.section)
    return runs


def test_seed_main_sections_are_inferred_in_reading_order(seed_corpus):
    assert _runs(seed_corpus.passages) == ["Symptoms", "Causes", "Diagnosis", "Treatment", "Outlook"]
    assert passage_with(seed_corpus, "Clonus spasms often occur").section == "Symptoms"
    assert passage_with(seed_corpus, "Serotonin syndrome is").section == "Causes"
    assert passage_with(seed_corpus, "magnetic resonance imaging").section == "Diagnosis"
    assert passage_with(seed_corpus, "Sedative medications and muscle").section == "Treatment"
    assert passage_with(seed_corpus, "The outlook for clonus").section == "Outlook"


def test_seed_surviving_headings_become_treatment_subsections(seed_corpus):
    subsections = {p.subsection for p in seed_corpus.passages if p.subsection}
    assert subsections == {"Physical therapy", "Botox injections", "Surgery", "Home remedies"}
    assert passage_with(seed_corpus, "Working with a physical therapist").subsection == "Physical therapy"
    assert passage_with(seed_corpus, "magnesium salt bath").subsection == "Home remedies"
    assert passage_with(seed_corpus, "The outlook for clonus").subsection is None
    for p in seed_corpus.passages:
        if p.subsection:
            assert p.section == "Treatment"


def test_a_second_flattened_article_gets_sensible_sections():
    corpus = ingest([DATA / "shingles.txt"])
    article = corpus.articles[0]
    assert (article.id, article.author, article.publisher) == ("shingles", "Ana Rivera", "Health Facts Daily")
    assert article.published.isoformat() == "2021-03-03" and len(article.references) == 3
    # "Risk factors that make this more likely include:" opens a Risk factors run.
    assert _runs(corpus.passages)[-6:] == ["Causes", "Risk factors", "Diagnosis", "Treatment",
                                           "Prevention", "Outlook"]
    assert passage_with(corpus, "The first symptom is often burning").section == "Symptoms"
    assert passage_with(corpus, "the virus stays dormant").section == "Causes"
    assert passage_with(corpus, "To diagnose shingles").section == "Diagnosis"
    assert passage_with(corpus, "aciclovir").subsection == "Antiviral medicines"
    assert passage_with(corpus, "Cool compresses").section == "Treatment"
    assert passage_with(corpus, "postherpetic neuralgia, a long-term").section == "Outlook"
    assert "Johnson and Rice 2014" in [r.short() for r in
                                       passage_with(corpus, "postherpetic neuralgia, a long-term").references]


def test_html_headings_give_sections_directly():
    doc = read_html("<article><h1>Gout</h1><p>Gout is arthritis.</p><h2>What causes gout?</h2>"
                    "<p>Uric acid builds up.</p><h3>Diet</h3><p>Red meat adds purines.</p>"
                    "<h2>Living with gout</h2><p>Most people do well.</p></article>")
    _, passages = ingest_document(doc)
    assert [(p.section, p.subsection) for p in passages] == [
        ("Overview", None), ("What causes gout?", None), ("What causes gout?", "Diet"),
        ("Living with gout", None)]


def test_a_bare_heading_naming_a_section_starts_it():
    blocks = [Block("text", "Clonus is a condition of the nerves."), Block("heading", "Diagnosis"),
              Block("text", "Nothing here names a section at all."),
              Block("heading", "Surgery"), Block("text", "Surgeons cut the nerve.")]
    placements = [p for p in place_blocks(blocks) if p]
    # The named section holds until the next heading; under "Surgery" the cues
    # decide again (a "Treatment" heading may have been lost in flattening).
    assert [(p.section, p.subsection) for p in placements] == [
        ("Overview", None), ("Diagnosis", None), ("Treatment", "Surgery")]


def test_a_third_article_with_short_list_items_and_lost_headings():
    corpus = ingest([DATA / "migraine.txt"])
    assert _runs(corpus.passages)[:6] == ["Overview", "Symptoms", "Causes", "Diagnosis",
                                          "Treatment", "Prevention"]
    assert _runs(corpus.passages)[-1] == "Outlook"
    # A roadmap sentence naming every section does not pull the intro into them:
    # the opening defines migraine, so it is the Overview.
    assert passage_with(corpus, "In this article, we look at").section == "Overview"
    assert passage_with(corpus, "genes probably matter").section == "Causes"
    assert passage_with(corpus, "Regular sleep").subsection == "Lifestyle changes"
    assert passage_with(corpus, "lead a normal life").section == "Outlook"
    # Short list items after a lead-in are text, together with it, never headings.
    triggers = passage_with(corpus, "Common triggers include:")
    for item in ("Stress at work or at home", "Missing meals or not drinking enough water",
                 "Hormonal changes around a period"):
        assert item in triggers.text
    assert {p.subsection for p in corpus.passages} <= {None, "Lifestyle changes"}


def test_headings_and_questions_are_classified():
    assert classify_heading("Causes of clonus") == "Causes"
    assert classify_heading("How is it diagnosed?") == "Diagnosis"
    assert classify_heading("Botox injections") is None
    assert intent_kinds("how is clonus treated") == {"Treatment"}
    assert intent_kinds("what causes clonus") == {"Causes"}
    assert intent_kinds("clonus") == set()
    assert asks_definition("What is clonus?") and asks_definition("define spasticity")
    assert not asks_definition("what is the best treatment for ankle clonus after a stroke")
    assert asks_definition("What is (are) Medium-chain acyl-CoA dehydrogenase deficiency ?")
    assert not asks_definition("What are they doing when they put the camera down my throat?")


def test_in_a_long_message_only_the_questions_ask_for_a_section():
    message = "I've just been diagnosed with MS. Why would it make my muscles spasm?"
    assert intent_kinds(message) == {"Causes"}
    assert intent_kinds("I've just been diagnosed with MS.") == {"Diagnosis"}
    assert intent_kinds("how do doctors recognise clonus") == {"Diagnosis"}


@pytest.mark.parametrize("name, meta, runs, subsections", [
    ("sciatica.txt",
     ("What is sciatica? Causes, symptoms, and treatment", "Daniel Brightwater",
      "Wellspring Health Daily", "2021-03-12", 4),
     ["Overview", "Symptoms", "Causes", "Diagnosis", "Treatment", "Prevention", "Outlook",
      "When to see a doctor"],
     {"Medication", "Physical therapy", "Surgery"}),
    ("eczema.txt",
     ("Eczema: what you need to know", "Priya Halvorsen", "The Everyday Clinic",
      "2019-11-03", 4),
     ["Overview", "Types", "Symptoms", "Causes", "Diagnosis", "Treatment", "Outlook"],
     {"Emollients", "Topical corticosteroids"}),
])
def test_articles_written_without_seeing_the_code_get_their_sections(name, meta, runs,
                                                                      subsections):
    # Both were written in the flattened form by someone who had not seen how
    # clonus_index reads it, with the sections they meant noted beside them.
    corpus = ingest([DATA / name])
    article = corpus.articles[0]
    assert (article.title, article.author, article.publisher, article.published.isoformat(),
            len(article.references)) == meta
    assert _runs(corpus.passages) == runs
    assert {p.subsection for p in corpus.passages} - {None} == subsections
    for p in corpus.passages:
        assert p.subsection is None or p.section == "Treatment"


def test_headings_run_into_their_text_become_headings_and_leave_the_passages():
    from clonus_index.pipeline import ingest_document
    from clonus_index.reading import read_text

    doc = read_text("Gout is a kind of arthritis that makes joints hurt.  Treatment Treatment aims "
                    "to ease the pain, and drugs such as colchicine help.  Outlook Most people do "
                    "well with care and the attacks become rare.")
    _, passages = ingest_document(doc)
    assert [(p.section, p.text.split()[0]) for p in passages] == [
        ("Overview", "Gout"), ("Treatment", "Treatment"), ("Outlook", "Most")]
    assert not any(p.text.startswith("Treatment Treatment") for p in passages)


def _kinds(html):
    _, passages = ingest_document(read_html(html))
    return [(p.section, p.kind) for p in passages]


def test_a_heading_that_names_no_section_takes_its_kind_from_the_text_under_it():
    page = ("<article><h1>Shingles</h1><p>Shingles is a painful rash caused by a virus.</p>"
            "<h2>Spotting it early</h2><p>The first sign is usually a tingling or burning pain "
            "on one side of the body. A rash of blisters appears a few days later.</p>"
            "<h2>What the GP can do</h2><p>Antiviral medicines such as aciclovir are the usual "
            "treatment. Painkillers can ease the pain while the rash heals.</p></article>")
    assert _kinds(page) == [("Overview", "Overview"), ("Spotting it early", "Symptoms"),
                            ("What the GP can do", "Treatment")]


def test_a_heading_of_several_sections_lets_its_text_choose_and_sections_outside_the_kind_fold():
    # A procedure's page: "after the baby is born" names no procedure section
    # the way "What happens" does in a procedure; a condition's page has no
    # "What happens" section, so its text decides.
    page = ("<article><h1>Chickenpox</h1><p>Chickenpox is a common childhood illness.</p>"
            "<h2>What happens after the spots appear?</h2><p>Most children recover fully "
            "within a week or two and the outlook is good.</p>"
            "<h2>Symptoms and causes</h2><p>It is caused by the varicella-zoster virus, which "
            "spreads through coughs and sneezes.</p></article>")
    assert [k for _, k in _kinds(page)] == ["Overview", "Outlook", "Causes"]


def test_a_question_subsection_decides_its_own_kind_and_a_plain_one_shares_its_sections():
    page = ("<article><h1>Ibuprofen</h1><p>Ibuprofen is a medicine used to treat pain.</p>"
            "<h2>How to take ibuprofen</h2><p>Take one 200mg tablet up to three times a day "
            "with food.</p><h3>Tablets and capsules</h3><p>Swallow them whole with water.</p>"
            "<h2>Your questions answered</h2><h3>Can I drink alcohol with it?</h3><p>Alcohol "
            "with ibuprofen raises the chance of stomach bleeding; it can interact with other "
            "medicines too.</p></article>")
    _, passages = ingest_document(read_html(page))
    assert [(p.kind, p.subsection) for p in passages] == [
        ("Overview", None), ("Dosage", None), ("Dosage", "Tablets and capsules"),
        ("Interactions", "Can I drink alcohol with it?")]


def test_kinds_that_have_no_when_to_see_a_doctor_section_fold_it():
    page = ("<article><h1>Hip replacement surgery</h1><p>A hip replacement is an operation "
            "to replace a damaged hip joint.</p><h2>Preparing for the operation</h2><p>You will "
            "have a pre-operative assessment before the surgery.</p>"
            "<h2>Going home</h2><p>Most people go home after three to five days and recover "
            "over six weeks.</p><h2>When to get help</h2><p>Call the ward if your wound "
            "becomes red or hot after the operation.</p></article>")
    assert [k for _, k in _kinds(page)] == ["Overview", "Preparation", "Recovery", "Recovery"]


def test_passage_kind_is_in_its_record_and_in_its_section_filter_keys(tmp_path):
    from clonus_index.index import section_keys
    corpus = ingest([DATA / "gout_nhs.html"])
    for p in corpus.passages:
        assert p.to_dict()["kind"] == p.kind and p.kind
        assert p.kind.lower() in section_keys(p).split(",")
    assert {p.kind for p in corpus.passages if p.section == "Things you can do to help"} == {
        "Living with"}


def test_a_name_inside_a_longer_heading_phrase_is_not_named_too():
    from clonus_index.cues import named_sections
    assert named_sections("After the procedure") == ["Recovery"]
    assert named_sections("Symptoms and causes") == ["Symptoms", "Causes"]
    assert named_sections("Things you can do to prevent kidney stones") == ["Prevention"]
    assert named_sections("Corticosteroids") == []
    assert named_sections("What does a spirometry test show?") == ["Overview"]
    assert named_sections("What does treatment involve?") == ["Treatment"]


def test_a_cue_in_most_paragraphs_names_the_subject_not_a_section():
    from clonus_index.cues import common_cues, cue_matches, scores_of
    texts = ["Pregnancy changes how the body handles sugar."] * 6 + [
        "The rash is itchy and red.", "Tests of the blood confirm it."]
    matches = [cue_matches(t) for t in texts]
    common = common_cues(matches)
    assert any(c.startswith("pregnan") for c in common)
    assert scores_of(matches[0], common)["Risk factors"] < scores_of(matches[0])["Risk factors"]
    assert common_cues(matches[:4]) == frozenset()  # too few paragraphs to tell


def test_cues_for_interactions_and_prevention_said_in_other_words():
    from clonus_index.sections import cue_scores
    mixing = cue_scores("Some painkillers can interfere with blood pressure tablets.")
    assert max(mixing, key=mixing.get) == "Interactions"
    hard = cue_scores("It is not always possible to prevent gout, but some habits help.")
    assert max(hard, key=hard.get) == "Prevention"
    classes = cue_scores("Doctors divide psoriasis into several forms, based on how it looks.")
    assert max(classes, key=classes.get) == "Types"


def test_a_list_of_common_causes_is_causes_and_how_a_condition_forms_too():
    from clonus_index.sections import cue_scores
    listed = cue_scores("Common causes include:")
    assert max(listed, key=listed.get) == "Causes"
    forms = cue_scores("Gallstones form when bile holds too much of a substance such as "
                       "cholesterol.")
    assert max(forms, key=forms.get) == "Causes"


def test_what_a_test_asks_of_you_beforehand_is_preparation():
    from clonus_index.sections import cue_scores
    ready = cue_scores("For an abdominal ultrasound you must not eat for six hours, and you "
                       "should come with a full bladder.")
    assert max(ready, key=ready.get) == "Preparation"
    why = cue_scores("Common reasons for a bone scan include unexplained bone pain.")
    assert max(why, key=why.get) == "Purpose"


def test_a_procedure_on_a_condition_is_a_procedure_when_its_title_says_so():
    from clonus_index.cues import article_kind
    condition = ("Osteoarthritis is a condition that causes joint pain and stiffness.",
                 "Symptoms of the condition include pain when walking and a stiff hip.",
                 "Other symptoms are a limp and swelling caused by the disorder.")
    procedure = ("The surgeon replaces the worn joint during the operation.",
                 "You will have an anaesthetic before the procedure starts.")
    # A long article that dwells on the condition the operation treats.
    blocks = [Block("text", t) for t in condition * 8 + procedure * 8]
    assert article_kind(blocks, "Hip replacement surgery: what to expect") == "procedure"
    assert article_kind(blocks, "Osteoarthritis of the hip") == "condition"


def test_framing_words_name_a_section_only_when_the_heading_names_no_other():
    page = ("<article><h1>Gout</h1><p>Gout is a type of arthritis.</p>"
            "<h2>Things you can do to prevent gout attacks</h2><p>Drink plenty of water and "
            "cut down on alcohol and red meat.</p>"
            "<h2>Things you can do to help</h2><p>Rest the joint and keep it cool.</p></article>")
    assert [k for _, k in _kinds(page)] == ["Overview", "Prevention", "Living with"]


def test_how_successful_an_operation_is_is_its_results_and_its_types_are_what_happens():
    page = ("<article><h1>Hip replacement surgery</h1><p>A hip replacement is an operation "
            "to replace a damaged hip joint.</p><h2>Types of hip implant</h2><p>Implants may be "
            "cemented into the bone or fixed without cement, and are made of metal, ceramic "
            "or plastic.</p><h2>How successful is a hip replacement?</h2><p>Nine in ten "
            "artificial hips still work well after fifteen years.</p></article>")
    assert [k for _, k in _kinds(page)] == ["Overview", "What happens", "Results"]


def test_a_closing_summary_is_a_drugs_overview_and_a_conditions_outlook():
    drug = ("<article><h1>Naproxen</h1><p>Naproxen is a medicine used to treat pain.</p>"
            "<h2>If you take too much</h2><p>Taking too much naproxen can harm your stomach; "
            "go to A&amp;E straight away.</p><h2>Summary</h2><p>Naproxen works well for most "
            "kinds of pain when it is taken with food.</p></article>")
    assert [k for _, k in _kinds(drug)] == ["Overview", "Warnings", "Overview"]
    condition = ("<article><h1>Shin splints</h1><p>Shin splints is pain along the shin bone.</p>"
                 "<h2>Bottom line</h2><p>Shin splints usually get better within weeks with "
                 "rest.</p></article>")
    assert [k for _, k in _kinds(condition)] == ["Overview", "Outlook"]


def test_a_cue_word_in_the_title_names_the_subject_not_a_section():
    from clonus_index.cues import title_cues

    assert "fever" in title_cues("Scarlet fever")
    assert not title_cues("Gout: symptoms and treatment")
    # "fever" is a symptom's word, but in an article on scarlet fever it names the subject.
    page = ("<article><h1>Scarlet fever</h1><p>Scarlet fever is an infection that mostly "
            "affects young children.</p><h2>Help from a pharmacist</h2><p>A pharmacist can "
            "suggest something for scarlet fever, such as paracetamol syrup for a child with "
            "scarlet fever.</p></article>")
    assert [k for _, k in _kinds(page)] == ["Overview", "Treatment"]


def test_a_list_lead_in_that_names_a_section_starts_it_in_flattened_text():
    from clonus_index.reading import read_text
    # Written for no article in the sets: treatment talk, then a prevention
    # list whose items and later paragraphs still mention treatment.
    text = (" Athlete's foot is a common fungal infection of the skin between the toes.  "
            "Antifungal creams from a pharmacy treat most cases within two weeks. A pharmacist "
            "can recommend a cream, spray or powder.  If the treatment does not work, a doctor "
            "may prescribe antifungal tablets.  Ways to prevent athlete's foot coming back "
            "include:   drying between your toes after washing   changing your socks every day  "
            " wearing flip-flops in communal showers   not sharing towels  Keep using the "
            "treatment for a week after the rash has gone. ")
    doc = read_text(text)
    placed = [(b.text, p.section) for b, p in zip(doc.blocks, place_blocks(doc.blocks, "Athlete's foot")) if p]
    assert dict(placed)["Ways to prevent athlete's foot coming back include:"] == "Prevention"
    assert dict(placed)["changing your socks every day"] == "Prevention"
