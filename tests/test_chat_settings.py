"""LLM configuration from the environment; the API key never shows; who may choose the LLM."""
import pytest

from qa.chat import LlmConfigError, LlmSettings, visitors_choose_llm


def test_no_llm_configured_means_none():
    assert LlmSettings.from_env({}) is None


def test_half_a_configuration_names_what_is_missing():
    with pytest.raises(LlmConfigError, match="LLM_MODEL is not set"):
        LlmSettings.from_env({"LLM_BASE_URL": "http://127.0.0.1:1/v1"})


def test_the_key_is_kept_out_of_repr():
    settings = LlmSettings.from_env({"LLM_BASE_URL": "https://api.deepseek.com/v1", "LLM_MODEL": "deepseek-chat", "LLM_API_KEY": "sk-secret"})
    assert settings.api_key == "sk-secret" and "sk-secret" not in repr(settings)


def test_failures_never_echo_the_key():
    from qa.chat import LlmError
    from qa.llm import OpenAIChat
    from qa.prompts import Prompt

    settings = LlmSettings(base_url="http://127.0.0.1:9/v1", model="m", api_key="sk-secret", timeout_s=2, max_retries=0)
    with pytest.raises(LlmError) as failure:
        list(OpenAIChat(settings).stream(Prompt(system="s", user="u")))
    assert "sk-secret" not in str(failure.value) and "'m' failed" in str(failure.value)


OPERATOR = {"LLM_BASE_URL": "https://llm.example.org/v1", "LLM_MODEL": "m", "LLM_API_KEY": "sk-operator"}


def test_the_operators_key_goes_only_with_the_operators_url():
    assert LlmSettings.for_visitor("https://llm.example.org/v1/", "m", "", OPERATOR).api_key == "sk-operator"
    assert LlmSettings.for_visitor("http://attacker.example/v1", "m", "", OPERATOR).api_key == ""
    assert LlmSettings.for_visitor("https://llm.example.org/v1.attacker.example", "m", "", OPERATOR).api_key == ""
    assert LlmSettings.for_visitor("http://attacker.example/v1", "m", "sk-visitor", OPERATOR).api_key == "sk-visitor"
    assert LlmSettings.for_visitor("", "", "", OPERATOR) is None


@pytest.mark.filterwarnings("ignore::UserWarning")  # the OpenAI client notes the list where it expects a string
def test_content_sent_as_a_list_of_parts_is_read():
    from qa.llm import OpenAIChat
    from qa.prompts import Prompt

    from .stub_llm import stub_llm

    parts = [{"type": "text", "text": "數字金融的本質是金融"}, {"type": "text", "text": "[1]。"}]
    with stub_llm(lambda messages: parts) as server:
        chat = OpenAIChat(LlmSettings(base_url=server.base_url, model="m", timeout_s=10, max_retries=0))
        assert "".join(chat.stream(Prompt(system="s", user="u"))) == "數字金融的本質是金融[1]。"


@pytest.mark.parametrize("address, allowed", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("", False), (None, False), ("192.168.1.20", False), ("app.example.org", False),
])
def test_visitors_choose_an_llm_only_on_a_loopback_address_unless_the_operator_says(address, allowed):
    assert visitors_choose_llm({}, address) is allowed
    assert visitors_choose_llm({"APP_VISITOR_LLM": "allow"}, address) is True
    assert visitors_choose_llm({"APP_VISITOR_LLM": " Deny "}, address) is False


def test_an_unknown_visitor_llm_setting_is_a_clear_error():
    with pytest.raises(LlmConfigError, match="APP_VISITOR_LLM.*allow or deny"):
        visitors_choose_llm({"APP_VISITOR_LLM": "yes"}, "127.0.0.1")
