"""The message catalog: complete in all three languages, every key used and every used key
present, traditional and simplified written as such, and the browser locale mapping."""
import ast
import re

import opencc
import pytest

from qa.i18n import CATALOG, LANGUAGES, CatalogError, language_for_locale, messages, placeholders, read_catalog

from .conftest import REPO

# Where interface text is looked up: `t("key", ...)` with `t` a Messages, or `messages(lang)("key")`.
SOURCES = [REPO / "app.py", *sorted((REPO / "qa").glob("*.py"))]


def used_keys() -> dict[str, str]:
    """Every literal key passed to a catalog lookup in SOURCES → where it is."""
    used = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            lookup = (isinstance(func, ast.Name) and func.id == "t") or (
                isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id == "messages"
            )
            if lookup:
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{path.name}:{node.lineno}: a catalog key must be a literal"
                used[first.value] = f"{path.name}:{node.lineno}"
    return used


def test_every_used_key_is_in_the_catalog():
    keys = set(messages("en").texts)
    missing = {key: where for key, where in used_keys().items() if key not in keys}
    assert not missing, f"keys used but not in {CATALOG.name}: {missing}"


def test_every_catalog_key_is_used():
    unused = set(messages("en").texts) - set(used_keys())
    assert not unused, f"keys in {CATALOG.name} that no code uses: {sorted(unused)}"


def test_every_language_has_every_key_with_the_same_placeholders():
    catalogs = [messages(language) for language in LANGUAGES]
    assert len({frozenset(c.texts) for c in catalogs}) == 1
    for key in catalogs[0].texts:
        assert len({placeholders(c.texts[key]) for c in catalogs}) == 1, key
        assert all(c.texts[key].strip() for c in catalogs), key


def test_a_catalog_missing_a_language_or_a_placeholder_is_refused(tmp_path):
    missing = tmp_path / "missing.toml"
    missing.write_text('[ok]\nzh-Hant = "好"\nzh-Hans = "好"\nen = "OK"\n[half]\nzh-Hant = "半"\nen = "Half"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="half: needs exactly zh-Hant, zh-Hans, en"):
        read_catalog(missing)
    mismatched = tmp_path / "mismatched.toml"
    mismatched.write_text('[n]\nzh-Hant = "{n} 份"\nzh-Hans = "{n} 份"\nen = "{count} copies"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="n: placeholders differ"):
        read_catalog(mismatched)


def test_a_missing_key_is_an_error_not_a_fallback():
    with pytest.raises(KeyError):
        messages("zh-Hant")("no_such_key")
    with pytest.raises(ValueError, match="use one of zh-Hant, zh-Hans, en"):
        messages("fr")


def test_traditional_and_simplified_use_their_own_characters():
    to_simplified, to_traditional = opencc.OpenCC("t2s"), opencc.OpenCC("s2t")
    for key, text in messages("zh-Hans").texts.items():
        assert to_simplified.convert(text) == text, f"zh-Hans {key}: traditional characters in {text!r}"
    for key, text in messages("zh-Hant").texts.items():
        assert to_traditional.convert(text) == text, f"zh-Hant {key}: simplified characters in {text!r}"


# Words that differ between Taiwan and mainland usage, not only in characters (the catalog's
# zh-Hant follows Taiwan usage): converting one script into the other would leave these.
MAINLAND_WORDS_IN_TRADITIONAL = ("導出", "數據", "文檔", "默認", "設置", "信息", "加載", "服務器", "軟件", "界面", "內存", "會話", "文件夾", "鏈接")
TAIWAN_WORDS_IN_SIMPLIFIED = ("汇出", "资料夹", "预设", "资讯", "软体", "伺服器", "介面", "记忆体", "工作阶段", "档案")


def test_each_script_uses_its_own_words():
    for key, text in messages("zh-Hant").texts.items():
        assert not [w for w in MAINLAND_WORDS_IN_TRADITIONAL if w in text], f"zh-Hant {key}: {text!r}"
    for key, text in messages("zh-Hans").texts.items():
        assert not [w for w in TAIWAN_WORDS_IN_SIMPLIFIED if w in text], f"zh-Hans {key}: {text!r}"


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"), ("zh-MO", "zh-Hant"), ("zh-Hant-TW", "zh-Hant"), ("zh_TW", "zh-Hant"),
        ("zh-CN", "zh-Hans"), ("zh-SG", "zh-Hans"), ("zh", "zh-Hans"), ("zh-Hans-CN", "zh-Hans"), ("ZH-cn", "zh-Hans"),
        ("en-US", "en"), ("en", "en"), ("fr-FR", "en"), ("ja-JP", "en"), ("", "en"), (None, "en"),
    ],
)
def test_browser_locale_gives_the_default_language(locale, language):
    assert language_for_locale(locale) == language


def inline_text(path) -> list[str]:
    """String literals in `path` that read as interface text: a Chinese character, two words,
    or a capitalised word (docstrings aside). Identifiers, keys, MIME types, file names and
    URLs are not."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
        and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    reads_as_text = re.compile(r"[\u3400-\u9fff]|[A-Za-z]{2,} [A-Za-z]{2,}|\b[A-Z][a-z]+\b")
    return [
        f"{path.name}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
        and reads_as_text.search(node.value)
    ]


def test_the_app_writes_no_interface_text_inline():
    assert not inline_text(REPO / "app.py"), "move these into qa/messages.toml"
