import pytest

from datacraft.errors import ConfigError
from datacraft.train.metrics import exact_match, load_metric, normalize, token_f1, tokens


def test_exact_match_normalises():
    assert exact_match("  Red Fox. ", "red fox") == 1.0
    assert exact_match("red fox", "red cat") == 0.0
    assert normalize("「答案」：四十二。") == "答案 四十二"


def test_token_f1_words_and_cjk_characters():
    assert tokens("LoRA 微调 works") == ["lora", "微", "调", "works"]
    assert token_f1("red cotton shirt", "red shirt") == pytest.approx(0.8)
    assert token_f1("低秩适配", "低秩矩阵") == pytest.approx(0.5)
    assert token_f1("", "") == 1.0 and token_f1("x", "") == 0.0 and token_f1("a b", "c d") == 0.0


def test_user_metric_from_module_and_file(tmp_path, monkeypatch):
    (tmp_path / "mymetrics.py").write_text("def starts(p, r):\n    return float(p.startswith(r[:1]))\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_metric("mymetrics:starts")("abc", "axe") == 1.0
    assert load_metric(f"{tmp_path / 'mymetrics.py'}:starts")("abc", "xyz") == 0.0
    assert load_metric("token_f1") is token_f1


@pytest.mark.parametrize(("spec", "message"), [
    ("bleu", "--metric bleu: use exact_match, token_f1, or module:function"),
    ("no_such_module_xyz:f", "--metric no_such_module_xyz:f: cannot import no_such_module_xyz"),
    ("json:nope", "--metric json:nope: json has no function nope"),
    ("missing.py:f", "--metric missing.py:f: missing.py not found"),
])
def test_bad_metric_specs(spec, message):
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        load_metric(spec)
