"""The follow-up rule without an LLM: which questions point back, and the topic carried over."""
from qa.followup import FollowupRule

RULE = FollowupRule()


def test_standalone_questions_are_left_alone(matcher):
    assert RULE.standalone("数字人民币在哪些领域开展了试点应用？", [], matcher) == "数字人民币在哪些领域开展了试点应用？"
    assert RULE.standalone("绿色金融如何识别洗绿？", ["数字人民币在哪些领域开展了试点应用？"], matcher) == "绿色金融如何识别洗绿？"


def test_questions_that_point_back_or_are_too_short_are_follow_ups(matcher):
    for question in ("谁负责制定它的技术标准？", "那農村呢？", "為什麼？", "What about its risks?"):
        assert RULE.is_followup(question, matcher), question
    assert not RULE.is_followup("区块链如何帮助知识产权质押融资？", matcher)


def test_the_previous_topic_is_carried_over(matcher):
    previous = ["数字人民币在哪些领域开展了试点应用？"]
    assert RULE.topic(previous[0], matcher) == ["数字人民币", "开展", "试点"]
    assert RULE.standalone("谁负责制定它的技术标准？", previous, matcher) == "数字人民币 开展 试点 谁负责制定它的技术标准？"


def test_pronouns_count_only_as_words_not_inside_ordinary_words(matcher):
    from qa.followup import points_back

    for question in ("其他银行如何开展数字信贷？", "监管部门应该如何规范数据资产入表？", "因此带来了哪些变化？", "其中有哪些风险？",
                     "彼此之间如何协作？", "尤其是小微企业如何融资？", "该如何评估数据资产的价值？"):
        assert not points_back(question, matcher), question
    for question in ("其风险如何控制？", "该公司的做法是什么？", "此项目的成效如何？", "該行如何控制風險？", "它們的區別是什麼？",
                     "那农村地区呢？", "此外还有哪些措施？", "What about its risks?"):
        assert points_back(question, matcher), question


def test_a_fresh_question_with_such_words_keeps_its_own_topic(matcher):
    previous = ["数字人民币在哪些领域开展了试点应用？"]
    assert RULE.standalone("其他银行如何开展跨境贸易融资业务？", previous, matcher) == "其他银行如何开展跨境贸易融资业务？"
