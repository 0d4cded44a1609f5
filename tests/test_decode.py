"""Decoding: the encodings Chinese users actually have."""
import pytest

from ingest.decode import decode_text
from ingest.errors import UndecodableText

TRADITIONAL = "數字金融創新案例：商業銀行、非銀行金融機構與科技企業的實踐。普惠金融讓小微企業獲得貸款。"
SIMPLIFIED = "数字金融创新案例：商业银行、非银行金融机构与科技企业的实践。普惠金融让小微企业获得贷款。"


@pytest.mark.parametrize(
    "text, data_encoding, expected",
    [
        (SIMPLIFIED, "utf-8", "utf-8"),
        (TRADITIONAL, "utf-8-sig", "utf-8-sig"),
        (SIMPLIFIED, "gb18030", "gb18030"),
        (SIMPLIFIED, "gbk", "gb18030"),
        (TRADITIONAL, "big5", "big5"),
        (TRADITIONAL, "utf-16", "utf-16"),
    ],
)
def test_decodes_each_encoding(text, data_encoding, expected):
    decoded, used = decode_text(text.encode(data_encoding))
    assert decoded == text
    assert used == expected


def test_traditional_text_in_gb18030_is_not_mistaken_for_big5():
    decoded, used = decode_text(TRADITIONAL.encode("gb18030"))
    assert (decoded, used) == (TRADITIONAL, "gb18030")


def test_binary_is_rejected_with_a_reason():
    with pytest.raises(UndecodableText, match="binary"):
        decode_text(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(UndecodableText, match="not valid UTF-8, UTF-16, GB18030 or Big5"):
        decode_text(bytes(range(128, 256)) * 4)
    with pytest.raises(UndecodableText, match="binary"):
        decode_text(b"ELF\x00\x00\x00\x01\x02" * 50)
