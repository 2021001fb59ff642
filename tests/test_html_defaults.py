"""The HTML report carries the defaults and initialisers tables, like Markdown and show."""

from compare.comparison import compare_model
from compare.report.html import render_html
from compare.spec import model_from_dict


def test_html_shows_defaults_that_differ():
    model = model_from_dict(
        {
            "name": "bn",
            "input": {"channels": 4, "size": [6, 6]},
            "layers": [{"kind": "batch_norm"}],
        }
    )
    page = render_html([compare_model(model)])
    assert "<caption>Defaults (spec convention)</caption>" in page
    assert "<caption>Initialisers (theoretical std / measured on the fresh layer)</caption>" in page
    assert '<tr class="differs"><td>0</td><td>batch_norm</td><td>epsilon</td>' in page
