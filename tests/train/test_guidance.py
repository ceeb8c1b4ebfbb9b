import pytest

from datacraft.train.guidance import epoch_guidance, suggested_epochs


@pytest.mark.parametrize(("n", "epochs", "ok", "suggested"), [
    (20_000, 5, False, 2.0),  # > 10k samples: fewer than 5 epochs
    (20_000, 4, True, 2.0),
    (200_000, 3, False, 1.0),  # more than twice the suggestion
    (5_000, 3, True, 3.0),
    (500, 1, False, 5.0),  # too few passes over small data
    (500, 5, True, 5.0),
    (500, 12, False, 5.0),
])
def test_epoch_guidance(n, epochs, ok, suggested):
    guidance = epoch_guidance(n, epochs)
    assert (guidance.ok, guidance.suggested) == (ok, suggested)


def test_large_data_message_suggests_a_value():
    guidance = epoch_guidance(50_000, 8)
    assert guidance.message == ("8 epochs over 50,000 samples is too many: above 10,000 samples use fewer than 5 "
                                "(try 2); extra passes mostly memorise the answers")


def test_max_steps_counts_as_effective_epochs():
    guidance = epoch_guidance(12_000, 3, max_steps=15_000, batch_size=8)
    assert guidance.epochs == 10.0 and not guidance.ok


def test_suggestion_never_grows_with_data():
    sizes = [10, 1_000, 1_001, 10_000, 10_001, 100_000, 100_001, 10**7]
    values = [suggested_epochs(n) for n in sizes]
    assert values == sorted(values, reverse=True) and all(v < 5 for n, v in zip(sizes, values, strict=True) if n > 10_000)
