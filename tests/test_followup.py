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
    assert RULE.topic(previous[0], matcher) == ["数字", "人民币", "试点"]
    assert RULE.standalone("谁负责制定它的技术标准？", previous, matcher) == "数字 人民币 试点 谁负责制定它的技术标准？"
