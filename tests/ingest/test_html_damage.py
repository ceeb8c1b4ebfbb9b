"""What trafilatura alone did to API docs: code in <dd>/<li> dropped, `¶` permalinks kept."""

from datacraft.ingest.html import extract_html

PAGE = """<html><head><title>json — JSON encoder¶</title></head><body><div role="main">
<h1>json — JSON encoder<a class="headerlink" href="#module-json" title="Link">¶</a></h1>
<p>The module exposes an API familiar to users of the standard library. It has many functions.</p>
<h2>Basic usage<a href="#basic-usage">¶</a></h2>
<dl class="py function"><dt id="json.dumps">json.dumps(obj)</dt>
<dd><p>Serialize obj to a JSON formatted str. The arguments have the same meaning as in dump.</p>
<div class="highlight"><pre>&gt;&gt;&gt; json.dumps([1, 2])
'[1, 2]'</pre></div></dd></dl>
<ul><li><p>First step: install the package with the usual tool.</p>
<pre>pip install something-useful</pre></li>
<li><p>Second step: there is no second step, it is all done.</p></li></ul>
<p>More prose follows here to make the page look like a normal documentation page with text.</p>
</div></body></html>"""


def test_code_in_definitions_and_list_items_is_kept_and_permalinks_removed():
    title, text = extract_html(PAGE)
    assert title == "json — JSON encoder"
    assert ">>> json.dumps([1, 2])" in text and "pip install something-useful" in text
    assert "¶" not in text
    assert "Basic usage" in text and "First step" in text and "Second step" in text
