"""Matching text: traditional and simplified questions meet the same tokens; sentences."""
from tests.conftest import REPO
from index.sentences import ends_as_sentence, has_cjk, sentence_spans, trailing_stop


def test_script_parity_both_ways(matcher):
    traditional = "數字金融如何推動綠色消費與普惠金融？"
    simplified = "数字金融如何推动绿色消费与普惠金融？"
    assert matcher.tokens(traditional) == matcher.tokens(simplified)
    assert matcher.normalize(traditional) == matcher.normalize(simplified)


def test_mainland_vocabulary_and_width_are_normalized(matcher):
    assert matcher.normalize("軟體ＡＰＩ") == "软件api"


def test_finance_dictionary_keeps_the_books_vocabulary_whole(matcher):
    tokens = matcher.tokens("非銀行金融機構以數據資產融資服務科技企業，推進核心系統轉型")
    for term in ("非银行金融机构", "数据资产融资", "科技企业"):
        assert term in tokens


def test_finance_dictionary_rows_all_come_from_the_documented_vocabulary():
    """Every row is a term of the book's taxonomy as DESIGN.md records it (institution types,
    scenarios, the five articles, the three parts of a case): no row for one question."""
    from index.text import DEFAULT_USER_DICT

    design = (REPO.parent / "shared" / "DESIGN.md")
    terms = [line.split()[0] for line in DEFAULT_USER_DICT.read_text(encoding="utf-8").splitlines() if line.strip()]
    if design.exists():
        import opencc

        vocabulary = opencc.OpenCC("t2s").convert(design.read_text(encoding="utf-8"))
        assert all(term in vocabulary for term in terms), [t for t in terms if t not in vocabulary]
    assert "助农服务点" not in terms and "空心化" not in terms


def test_stopwords_and_punctuation_are_dropped(matcher):
    assert matcher.tokens("什么是的了，。？") == []


def test_sentences_cover_text_and_end_at_punctuation():
    text = "第一句。第二句！“第三句？”Fourth one. 第五句沒有結尾\n下一行"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["第一句。", "第二句！", "“第三句？”", "Fourth one.", "第五句沒有結尾", "下一行"]


def test_punctuation_after_a_closing_quote_ends_the_sentence_before_it():
    text = "他說：「我們會回來的……」。之後\n」。\n他們走了。 。"
    assert [text[s:e] for s, e in sentence_spans(text)] == ["他說：「我們會回來的……」。", "之後\n」。", "他們走了。 。"]
    lone = "。」下一句。"
    assert [lone[s:e] for s, e in sentence_spans(lone)] == ["。」", "下一句。"]  # nothing before it to join


def test_english_terms_meet_chinese_tokens_through_the_glossary(matcher):
    tokens = matcher.tokens("How do green bonds support green finance?")
    assert {"绿色", "债券", "绿色金融"} <= set(tokens)
    assert "绿色" in tokens  # from the longer phrases, not a separate "green" entry
    assert matcher.tokens("greenery") == ["greenery"]  # whole words only


def test_typesetting_spaces_between_cjk_characters_are_ignored(matcher):
    assert matcher.normalize("序 言") == "序言"
    assert matcher.tokens("序　言") == matcher.tokens("序言")
    assert matcher.normalize("AI 金融 API") == "ai 金融 api"


def test_one_cjk_test_for_every_han_block():
    assert has_cjk("數") and has_cjk("数") and has_cjk("\u3400") and has_cjk("\uf900")  # unified, extension A, compatibility
    assert not has_cjk("AI finance 123, ，。") and not has_cjk("")


def test_sentence_ends_and_trailing_stops_come_from_the_splitter():
    assert ends_as_sentence("系統在三分鐘內完成審批。") and ends_as_sentence("“第三句？”")
    assert not ends_as_sentence("一、創新背景") and not ends_as_sentence("推薦人")
    assert trailing_stop("完成審批。") == 4 and trailing_stop("完成審批") == 4
